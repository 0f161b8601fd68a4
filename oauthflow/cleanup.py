"""Kept so ``from oauthflow.cleanup import clear_tokens`` keeps working; clean-up lives in
``oauthflow.store.cleanup``."""

from .store.cleanup import clear_tokens

__all__ = ["clear_tokens"]
