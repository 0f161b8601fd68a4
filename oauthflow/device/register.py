"""Plugging the device flow into the server (called from the app's ``ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from ..server.registry import registry
from ..store import cleanup, revocation
from .endpoint import DeviceAuthorizationEndpoint
from .grant import DeviceCodeGrant
from .models import DeviceAuthorization, UserCodeFailures


def _failures_over(now: datetime) -> Q:
    return Q(window_ends_at__lte=now)


def register() -> None:
    registry.register_grant(DeviceCodeGrant)
    registry.register_endpoint(DeviceAuthorizationEndpoint)
    revocation.register_issued_model(DeviceAuthorization)
    cleanup.register_table("device_authorizations", DeviceAuthorization)
    cleanup.register_table("wrong_user_codes", UserCodeFailures, _failures_over)
