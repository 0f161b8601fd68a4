"""Plugging dynamic client registration in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse

from ..server.registry import registry
from ..store import cleanup
from .models import InitialAccessToken, usable
from .views import is_on


def _metadata(issuer: str) -> dict[str, Any]:
    # RFC 8414 §2: advertised only while clients may register.
    if not is_on():
        return {}
    return {"registration_endpoint": issuer + reverse("oauthflow:register")}


def _dead(now: datetime) -> Q:
    # Expired, used up or revoked: no request can use it again. The registrations it
    # let in keep its hint.
    return ~usable(now)


def register() -> None:
    registry.register_metadata(_metadata)
    cleanup.register_table("initial_access_tokens", InitialAccessToken, _dead)
