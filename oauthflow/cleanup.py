"""Deleting codes and tokens that can never be used again.

``manage.py oauthflow_cleartokens`` calls :func:`clear_tokens`; a task queue can call it
too. It is built for tables of millions of rows that are in use while it runs:

* Each table is walked once in primary-key order. A batch selects the next ``batch_size``
  primary keys of deletable rows (``pk > last``, so rows that are kept are never scanned
  twice), then deletes the deletable rows of that key range, in a short transaction of
  its own: no long locks, and an interrupted run leaves only finished batches behind.
* "Deletable" is decided at one ``now`` taken when the run starts, on indexed columns
  (``expires_at``, ``revoked_at``) and the primary key.
* Kept: a redeemed code until it expires, and a rotated refresh token until its family's
  absolute lifetime ends (``family_expires_at``), because presenting one again is how
  reuse is detected (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from .models import AccessToken, AuthorizationCode, Client, RefreshToken
from .settings import oauthflow_settings

logger = logging.getLogger(__name__)

#: The tables cleared, in order, by the names used in reports.
TABLES: dict[str, type[models.Model]] = {
    "authorization_codes": AuthorizationCode,
    "access_tokens": AccessToken,
    "refresh_tokens": RefreshToken,
}

# The column that marks a credential as used; used-and-revoked rows wait for expiry.
_USED_AT = {AuthorizationCode: "redeemed_at", RefreshToken: "rotated_at"}


def deletable(model: type[models.Model], now: datetime) -> Q:
    """The rows of ``model`` that no request can ever accept, and reuse detection does
    not need."""
    revoked = Q(revoked_at__isnull=False)
    used_at = _USED_AT.get(model)
    if used_at:
        revoked &= Q(**{f"{used_at}__isnull": True})
    expired = Q(expires_at__lte=now)
    if model is RefreshToken:
        # A rotated refresh token is reuse evidence for as long as its family may live,
        # not just until its own (idle) expiry: keep it until family_expires_at.
        expired &= Q(rotated_at__isnull=True) | Q(family_expires_at__lte=now)
    # A refresh token past family_expires_at but not yet past expires_at is dead too;
    # it goes when expires_at passes, since family_expires_at has no index to find it by.
    return expired | revoked


def clear_tokens(
    *, batch_size: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> dict[str, int]:
    """Delete expired and revoked codes and tokens; return how many per table.

    With ``dry_run`` nothing is deleted and the counts are what would be.
    """
    batch_size = batch_size or oauthflow_settings.CLEARTOKENS_BATCH_SIZE
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    now = now or timezone.now()
    counts = {}
    for name, model in TABLES.items():
        condition = deletable(model, now)
        if dry_run:
            counts[name] = model._default_manager.filter(condition).count()
        else:
            counts[name] = _clear_table(model, condition, batch_size)
    if not dry_run:
        logger.info(
            "oauthflow_cleartokens deleted %s",
            ", ".join(f"{n} {name}" for name, n in counts.items()),
        )
    return counts


def delete_issued_to(client: Client, *, batch_size: int | None = None) -> dict[str, int]:
    """Delete every code and token of ``client``, in batches; return how many per table.

    Revoke them first (``revocation.revoke_client``) so they are dead while this runs.
    """
    batch_size = batch_size or oauthflow_settings.CLEARTOKENS_BATCH_SIZE
    return {
        name: _clear_table(model, Q(client=client), batch_size) for name, model in TABLES.items()
    }


def _clear_table(model: type[models.Model], condition: Q, batch_size: int) -> int:
    manager = model._default_manager
    deleted = 0
    last_pk = None
    while True:
        with transaction.atomic(using=manager.db):
            candidates = manager.filter(condition)
            if last_pk is not None:
                candidates = candidates.filter(pk__gt=last_pk)
            pks = list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                break
            # Delete by key range rather than a list of keys: no parameter limit, and a
            # row that became deletable since the select may go too.
            in_range = manager.filter(condition, pk__gte=pks[0], pk__lte=pks[-1])
            deleted += _delete(in_range)
        last_pk = pks[-1]
        if len(pks) < batch_size:
            break
    return deleted


def _delete(queryset: models.QuerySet) -> int:
    """Delete ``queryset`` in a fixed number of statements, whatever its size.

    ``QuerySet.delete()`` would load every row and delete in chunks of 100 once another
    row points at the model (RefreshToken.rotated_from, SET_NULL). When every incoming
    relation is SET_NULL and no delete signal has a receiver, clear those references with
    one UPDATE each and delete with one DELETE; otherwise let Django's collector do it.
    """
    model = queryset.model
    relations = model._meta.related_objects
    if any(rel.on_delete is not models.SET_NULL for rel in relations) or any(
        signal.has_listeners(model) for signal in (pre_delete, post_delete)
    ):
        return queryset.delete()[0]
    for rel in relations:
        rel.related_model._base_manager.filter(
            **{f"{rel.field.name}__in": queryset.values("pk")}
        ).update(**{rel.field.name: None})
    # _raw_delete is QuerySet.delete()'s own fast path: no signals and no cascades, both
    # ruled out above.
    return queryset._raw_delete(queryset.db)
