"""Limits on guessing user codes (RFC 8628 §5.1).

A user code has 34.6 bits (``oauthflow.device.user_code``), few enough that unbounded
guessing would find live ones. Each wrong, well-formed code counts against the signed-in
user and against the browser's address; once either reaches its limit within the
window (``DEVICE_USER_FAILURES``, ``DEVICE_ADDRESS_FAILURES``, ``DEVICE_FAILURE_WINDOW``),
that user or address may not enter codes until the window ends. The counts are rows in
the database, so every process sees the same ones. An attempt is counted before the code
is looked up (so simultaneous attempts cannot slip past the limit) and taken back if the
code was right: a right code is not counted and does not reset the counts. IPv6
addresses count by their /64.
"""

from __future__ import annotations

import ipaddress
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


def _address(request: Any) -> str:
    """The browser's address as counted: an IPv6 address by its /64, which one
    subscriber usually holds whole (counting each address would give them 2**64 tries)."""
    address = get_adapter().get_client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keys(request: Any) -> dict[str, int]:
    """The counters this request counts against, with their limits."""
    keys = {_key("user", str(request.user.pk)): oauthflow_settings.DEVICE_USER_FAILURES}
    address = _address(request)
    if address:
        keys[_key("address", address)] = oauthflow_settings.DEVICE_ADDRESS_FAILURES
    return keys


def lockout(request: Any, now: datetime | None = None) -> Lockout | None:
    """The lockout this request is under, if any (one query): a limit reached."""
    return _over(request, now or timezone.now(), reached=True)


def attempt(request: Any, now: datetime | None = None) -> Lockout | None:
    """Count an attempt at a code before it is looked up; the lockout if it is one too
    many (then it must not be looked up).

    Counting first, then reading what was counted, holds under concurrency: the n-th of
    simultaneous attempts reads a count of at least n, so no more attempts than the limit
    get through, however many arrive at once. A right code is then :func:`uncounted`.
    """
    now = now or timezone.now()
    window_end = now + timedelta(seconds=oauthflow_settings.DEVICE_FAILURE_WINDOW)
    for key in _keys(request):
        _count(key, now, window_end)
    return _over(request, now, reached=False)


def uncount(request: Any, now: datetime | None = None) -> None:
    """Take back the attempt :func:`attempt` counted: the code was right."""
    now = now or timezone.now()
    UserCodeFailures.objects.filter(
        key__in=list(_keys(request)), window_ends_at__gt=now, failures__gt=0
    ).update(failures=F("failures") - 1)


def _over(request: Any, now: datetime, *, reached: bool) -> Lockout | None:
    keys = _keys(request)
    rows = UserCodeFailures.objects.filter(key__in=list(keys), window_ends_at__gt=now)
    locked = [
        row.window_ends_at
        for row in rows
        if (row.failures >= keys[row.key] if reached else row.failures > keys[row.key])
    ]
    return Lockout(max(locked)) if locked else None


def _count(key: str, now: datetime, window_end: datetime) -> None:
    rows = UserCodeFailures.objects
    # One UPDATE in the common cases; each is atomic, so concurrent attempts all count.
    if rows.filter(key=key, window_ends_at__gt=now).update(failures=F("failures") + 1):
        return
    if rows.filter(key=key, window_ends_at__lte=now).update(failures=1, window_ends_at=window_end):
        return
    try:
        with transaction.atomic(using=router.db_for_write(UserCodeFailures)):
            rows.create(key=key, failures=1, window_ends_at=window_end)
    except IntegrityError:  # a concurrent first attempt made the row
        rows.filter(key=key).update(failures=F("failures") + 1)
