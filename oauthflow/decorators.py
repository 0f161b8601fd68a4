"""Kept so ``from oauthflow.decorators import require_oauth`` keeps working; the code
lives in ``oauthflow.resource.decorators``."""

from .resource.decorators import ProtectedResourceMixin, require_oauth

__all__ = ["ProtectedResourceMixin", "require_oauth"]
