"""Kept so imports from earlier releases keep working; the token cache lives in
``oauthflow.resource.cache``."""

from .resource.cache import MAX_ENTRY_SECONDS, invalidate_client, invalidate_user

__all__ = ["MAX_ENTRY_SECONDS", "invalidate_client", "invalidate_user"]
