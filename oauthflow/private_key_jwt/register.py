"""Plugging private_key_jwt in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from ..server.registry import registry
from ..store import cleanup
from . import assertion, method
from .models import UsedAssertion


def _over(now: datetime) -> Q:
    return Q(expires_at__lte=now)


def metadata(issuer: str) -> dict[str, Any]:
    algs = assertion.algorithms()
    body = {"token_endpoint_auth_signing_alg_values_supported": algs}
    endpoints = {e.ENDPOINT_NAME for e in registry.endpoints()}
    for name in ("revocation", "introspection"):
        if name in endpoints:
            body[f"{name}_endpoint_auth_signing_alg_values_supported"] = algs
    return body


def register() -> None:
    registry.register_client_auth_method(
        method.NAME, method.authenticate, client_errors=method.client_errors
    )
    registry.register_metadata(metadata)
    cleanup.register_table("used_client_assertions", UsedAssertion, _over)
