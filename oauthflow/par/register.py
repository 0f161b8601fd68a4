"""Plugging pushed authorization requests in (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from ..server.registry import registry
from ..store import cleanup
from . import resolver
from .endpoint import PushedAuthorizationEndpoint
from .models import PushedRequest


def _over(now: datetime) -> Q:
    return Q(expires_at__lte=now)


def register() -> None:
    registry.register_endpoint(PushedAuthorizationEndpoint)
    registry.register_request_uri_resolver(resolver.resolve)
    cleanup.register_table("pushed_requests", PushedRequest, _over)
