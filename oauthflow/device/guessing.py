"""Limits on guessing user codes (RFC 8628 §5.1).

A user code has 34.6 bits (``oauthflow.device.user_code``), few enough that unbounded
guessing would find live ones. Each wrong, well-formed code counts against the signed-in
user and against the browser's address; once either reaches its limit within the
window (``DEVICE_USER_FAILURES``, ``DEVICE_ADDRESS_FAILURES``, ``DEVICE_FAILURE_WINDOW``),
that user or address may not enter codes until the window ends. The counts are rows in
the database, so every process sees the same ones; a code entered right is not
counted and does not reset them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..adapter import get_adapter
from ..settings import oauthflow_settings
from .models import UserCodeFailures


@dataclass(frozen=True)
class Lockout:
    """Entering codes is refused until ``until``."""

    until: datetime

    @property
    def minutes(self) -> int:
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, int(seconds + 59) // 60)


def _key(kind: str, value: str) -> str:
    return salted_hmac(
        "oauthflow.device.guessing", f"{kind}:{value}", algorithm="sha256"
    ).hexdigest()


def _keys(request: Any) -> dict[str, int]:
    """The counters this request counts against, with their limits."""
    keys = {_key("user", str(request.user.pk)): oauthflow_settings.DEVICE_USER_FAILURES}
    address = get_adapter().get_client_address(request)
    if address:
        keys[_key("address", address)] = oauthflow_settings.DEVICE_ADDRESS_FAILURES
    return keys


def lockout(request: Any, now: datetime | None = None) -> Lockout | None:
    """The lockout this request is under, if any (one query)."""
    now = now or timezone.now()
    keys = _keys(request)
    rows = UserCodeFailures.objects.filter(key__in=list(keys), window_ends_at__gt=now)
    locked = [row.window_ends_at for row in rows if row.failures >= keys[row.key]]
    return Lockout(max(locked)) if locked else None


def record_failure(request: Any, now: datetime | None = None) -> None:
    """Count one wrong code against the user and the address."""
    now = now or timezone.now()
    window_end = now + timedelta(seconds=oauthflow_settings.DEVICE_FAILURE_WINDOW)
    for key in _keys(request):
        _count(key, now, window_end)


def _count(key: str, now: datetime, window_end: datetime) -> None:
    rows = UserCodeFailures.objects
    # One UPDATE in the common cases; each is atomic, so concurrent failures all count.
    if rows.filter(key=key, window_ends_at__gt=now).update(failures=F("failures") + 1):
        return
    if rows.filter(key=key, window_ends_at__lte=now).update(failures=1, window_ends_at=window_end):
        return
    try:
        with transaction.atomic(using=router.db_for_write(UserCodeFailures)):
            rows.create(key=key, failures=1, window_ends_at=window_end)
    except IntegrityError:  # a concurrent first failure made the row
        rows.filter(key=key).update(failures=F("failures") + 1)
