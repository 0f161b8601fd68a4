"""Plugging DPoP in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db.models import Q

from ..resource import schemes
from . import resource


def _over(now: datetime) -> Q:
    return Q(expires_at__lte=now)


_registered = False


def register() -> None:
    global _registered
    schemes.register(resource.DPoPScheme())
    # Once per process: ready() runs again whenever tests change INSTALLED_APPS, and a
    # second extension would check every proof twice (the second time, as a replay).
    if _registered or not apps.is_installed("oauthflow"):
        return  # (without oauthflow: an API on another host, the resource side only)
    _registered = True
    from ..server.registry import registry
    from ..store import cleanup
    from . import token_endpoint
    from .models import UsedProof

    registry.register_grant_extension(token_endpoint.DPoPExtension())
    registry.register_authorization_check(token_endpoint.check_authorization)
    registry.register_token_claims(token_endpoint.token_claims)
    registry.register_metadata(token_endpoint.metadata)
    cleanup.register_table("used_dpop_proofs", UsedProof, _over)
