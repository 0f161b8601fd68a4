"""How often a device may poll (RFC 8628 §3.5), kept on the row so every process agrees.

Each poll of a pending request moves ``next_poll_at`` forward by the request's interval,
with one conditional UPDATE: of two polls too close together, the second finds the row
already moved and is told ``slow_down``, which adds 5 seconds to that request's interval
"for this and all subsequent requests". A poll up to a fifth of the interval early is
still on time: requests sent exactly ``interval`` apart can arrive closer than that.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from .models import DeviceAuthorization

#: What slow_down adds to the interval (RFC 8628 §3.5).
SLOW_DOWN_STEP = 5


def _next(now: datetime, interval: int) -> datetime:
    return now + timedelta(seconds=interval * 0.8)


def on_time(authorization: DeviceAuthorization, now: datetime | None = None) -> bool:
    """Record a poll of ``authorization``; False (and its interval grown) if too early."""
    now = now or timezone.now()
    interval = authorization.poll_interval
    rows = DeviceAuthorization.objects.filter(pk=authorization.pk)
    moved = rows.filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), poll_interval=interval
    ).update(next_poll_at=_next(now, interval))
    if moved:
        return True
    slower = interval + SLOW_DOWN_STEP
    rows.update(poll_interval=F("poll_interval") + SLOW_DOWN_STEP, next_poll_at=_next(now, slower))
    authorization.poll_interval = slower
    return False
