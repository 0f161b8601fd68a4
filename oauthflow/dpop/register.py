"""Plugging DPoP in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db.models import Q

from ..resource import schemes
from . import resource


def _over(now: datetime) -> Q:
    return Q(expires_at__lte=now)


def register() -> None:
    schemes.register(resource.DPoPScheme())
    if not apps.is_installed("oauthflow"):
        return  # an API on another host: the resource side only
    from ..server.registry import registry
    from ..store import cleanup
    from . import token_endpoint
    from .models import UsedProof

    registry.register_grant_extension(token_endpoint.DPoPExtension())
    registry.register_authorization_check(token_endpoint.check_authorization)
    registry.register_token_claims(token_endpoint.token_claims)
    registry.register_metadata(token_endpoint.metadata)
    cleanup.register_table("used_dpop_proofs", UsedProof, _over)
