"""Plugging dynamic client registration in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext

from ..server.registry import registry
from ..store import cleanup
from .models import ClientRegistration, InitialAccessToken, usable
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


def _self_registered(grant: Any) -> str | None:
    """The consent page's warning for a client that registered itself: its name, logo
    and homepage are its own claims, which nobody here has checked."""
    client = grant.client
    if not ClientRegistration.objects.filter(client=client).exists():
        return None
    parts = urlsplit(grant.redirect_uri or "")
    host = parts.hostname or parts.scheme  # com.example.app: a native app's own scheme
    return gettext(
        "This app registered itself: nobody at this site has checked who runs it, or "
        "that its name and logo are its own. It sends you back to %(host)s. Allow it only "
        "if you trust that address."
    ) % {"host": host}


def register() -> None:
    registry.register_metadata(_metadata)
    registry.register_consent_notice(_self_registered)
    cleanup.register_table("initial_access_tokens", InitialAccessToken, _dead)
