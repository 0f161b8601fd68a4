"""Kept so imports from earlier releases keep working; revocation lives in
``oauthflow.store.revocation``."""

from .store.revocation import revoke_access_token, revoke_client, revoke_family, revoke_grant

__all__ = ["revoke_access_token", "revoke_client", "revoke_family", "revoke_grant"]
