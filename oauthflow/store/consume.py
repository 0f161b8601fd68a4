"""Using a credential once: redeeming a code, rotating a refresh token.

The conditional UPDATE is the guard: of several concurrent requests exactly one matches
the row and wins; the others presented a credential that someone else is using right now,
which is reuse too (RFC 9700 §4.14.2). Call it inside the transaction that issues what
the credential buys, so a failure later in the request un-uses it.
"""

from __future__ import annotations

import enum
from typing import Any

from django.utils import timezone


class Outcome(enum.Enum):
    CONSUMED = "consumed"  # this request used it
    REVOKED = "revoked"  # revoked meanwhile: just invalid
    ALREADY_USED = "already_used"  # used by another request: reuse


def consume(credential: Any) -> Outcome:
    """Mark ``credential`` (an AuthorizationCode or RefreshToken) used, once."""
    model = type(credential)
    field = model.USED_FIELD
    updated = model.objects.filter(
        pk=credential.pk, revoked_at__isnull=True, **{f"{field}__isnull": True}
    ).update(**{field: timezone.now()})
    if updated == 1:
        return Outcome.CONSUMED
    if model.objects.filter(pk=credential.pk, revoked_at__isnull=False).exists():
        return Outcome.REVOKED
    return Outcome.ALREADY_USED
