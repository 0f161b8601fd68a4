"""The one validity rule: whether a code or token may still be used, and if not, why.

Every caller asks here, and only here: the bearer check, the grants, introspection,
clean-up and the admin. :func:`refusal` judges one row in Python; :func:`dead` and
:func:`in_force` are the same rule as queryset filters, kept beside it so the two cannot
drift apart.

The order of the checks is part of the rule:

1. Revoked: nothing issued from a revoked authorization works again.
2. Used (a redeemed code, a rotated refresh token): presenting it again is evidence of
   theft (RFC 9700 §4.14.2) for as long as the credential could have been used, its
   *evidence window*. After that window it is merely expired, so an old value found in a
   log cannot be used to revoke a user's authorization.
3. Expired.
4. The client disabled, or the user inactive: the row is fine, its parties are not.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone


class Refusal(enum.Enum):
    """Why a credential is refused. Callers choose what to tell whom."""

    MALFORMED = "malformed"  # not shaped like anything we issue: never looked up
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    USED = "used"
    EXPIRED = "expired"
    CLIENT_INACTIVE = "client_inactive"
    USER_INACTIVE = "user_inactive"
    #: Valid, but bound to a key (DPoP): refused where no proof of it was checked.
    KEY_BOUND = "key_bound"


def user_is_active(user: Any) -> bool:
    """A user may act unless marked inactive (any false value: ``False``, ``0``, ``None``).
    Custom user models without ``is_active`` are always active, as for Django's
    ``ModelBackend``."""
    return bool(getattr(user, "is_active", True))


def state(credential: Any, now: datetime | None = None) -> Refusal | None:
    """What is wrong with the row itself (steps 1-3), or None."""
    now = now or timezone.now()
    if credential.revoked_at is not None:
        return Refusal.REVOKED
    used_field = credential.USED_FIELD
    if used_field is not None and getattr(credential, used_field) is not None:
        return Refusal.USED if now < credential.evidence_until else Refusal.EXPIRED
    if credential.expires_at <= now:
        return Refusal.EXPIRED
    return None


def refusal(credential: Any, now: datetime | None = None) -> Refusal | None:
    """Why ``credential`` may not be used now, or None if it may.

    Reads ``credential.client`` and ``credential.user``: load them with the row
    (``select_related``) or attach the ones already at hand, or this costs queries.
    """
    found = state(credential, now)
    if found is not None:
        return found
    if not credential.client.is_active:
        return Refusal.CLIENT_INACTIVE
    if credential.user_id is not None and not user_is_active(credential.user):
        return Refusal.USER_INACTIVE
    return None


def in_force(now: datetime) -> Q:
    """Rows neither revoked nor expired at ``now`` (what the authorized-apps page lists)."""
    return Q(revoked_at__isnull=True, expires_at__gt=now)


def dead(model: type[Model], now: datetime) -> Q:
    """Rows of ``model`` that :func:`state` refuses forever and that are no longer
    evidence of reuse: what clean-up may delete.

    A revoked row goes at once unless it was used (it then waits for its expiry, like
    any used row); a used row goes when its evidence window closes; an expired one at
    once. Only indexed columns and the primary key are involved, except the refresh
    token's evidence end, which is read only for rows already expired.
    """
    used_field = getattr(model, "USED_FIELD", None)
    if used_field is None:
        return Q(revoked_at__isnull=False) | Q(expires_at__lte=now)
    unused = Q(**{f"{used_field}__isnull": True})
    evidence_over = Q(**{f"{model.EVIDENCE_UNTIL_FIELD}__lte": now})  # type: ignore[attr-defined]
    return (Q(revoked_at__isnull=False) & unused) | (
        Q(expires_at__lte=now) & (unused | evidence_over)
    )
