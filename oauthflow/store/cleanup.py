"""Deleting codes and tokens that can never be used again.

``manage.py oauthflow_cleartokens`` calls :func:`clear_tokens`; a task queue can call it
too. It is built for tables of millions of rows that are in use while it runs:

* Each table is walked once in primary-key order. A batch selects the next ``batch_size``
  primary keys of deletable rows (``pk > last``, so rows that are kept are never scanned
  twice), then deletes those rows, in a short transaction of its own: no long locks, and
  an interrupted run leaves only finished batches behind.
* "Deletable" is the validity rule's :func:`~oauthflow.store.validity.dead`, decided at
  one ``now`` taken when the run starts, on indexed columns and the primary key. Rows
  that reuse detection still needs (a redeemed code until it expires, a rotated refresh
  token until its family's absolute lifetime ends) are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connections, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from ..models import AccessToken, Authentication, AuthorizationCode, Client, RefreshToken
from ..settings import oauthflow_settings
from .validity import dead

# The name sites configure logging by (it predates this module).
logger = logging.getLogger("oauthflow.cleanup")

#: The tables cleared, in order, by the names used in reports.
TABLES: dict[str, type[models.Model]] = {
    "authorization_codes": AuthorizationCode,
    "access_tokens": AccessToken,
    "refresh_tokens": RefreshToken,
    # OpenID Connect's record of each sign-in: kept while its authorization may live.
    "authentications": Authentication,
}
#: Tables capabilities add (``register_table``), each with what makes a row deletable.
_added: dict[str, tuple[type[models.Model], Callable[[datetime], Q] | None]] = {}


def register_table(
    name: str, model: type[models.Model], deletable: Callable[[datetime], Q] | None = None
) -> None:
    """Clear ``model`` too, reported as ``name``: the rows ``deletable(now)`` selects, or
    for an ``IssuedCredential`` by default the validity rule's dead rows."""
    _added[name] = (model, deletable)


def _tables() -> dict[str, type[models.Model]]:
    return {**TABLES, **{name: model for name, (model, _) in _added.items()}}


def deletable(model: type[models.Model], now: datetime) -> Q:
    """The rows of ``model`` that no request can ever accept, and reuse detection does
    not need."""
    if model is Authentication:
        return Q(expires_at__lte=now)
    for added, condition in _added.values():
        if added is model and condition is not None:
            return condition(now)
    return dead(model, now)


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
    for name, model in _tables().items():
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
        name: _clear_table(model, Q(client=client), batch_size)
        for name, model in _tables().items()
        if any(field.name == "client" for field in model._meta.get_fields())
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
            deleted += _delete(model, condition, pks, manager.db)
        last_pk = pks[-1]
        if len(pks) < batch_size:
            break
    return deleted


def _delete(model: type[models.Model], condition: Q, pks: list[Any], db: str) -> int:
    """Delete the rows ``pks`` (sorted) of ``model`` in a fixed number of statements.

    With nothing pointing at the model and no delete signal receivers, Django's own
    ``QuerySet.delete()`` is one DELETE; it gets the key range and the condition, so a row
    that became deletable since the select goes too. Once another row points at the model
    (RefreshToken.rotated_from, SET_NULL), ``delete()`` would load every row and delete in
    chunks of 100: when every incoming relation is SET_NULL, clear those references with
    an UPDATE and delete with a DELETE built from the model's metadata. Otherwise
    Django's collector does it, signals and all.
    """
    relations = model._meta.related_objects
    listened = any(signal.has_listeners(model) for signal in (pre_delete, post_delete))
    in_range = model._base_manager.using(db).filter(condition, pk__gte=pks[0], pk__lte=pks[-1])
    if not relations and not listened:
        return in_range.delete()[0]
    if listened or any(rel.on_delete is not models.SET_NULL for rel in relations):
        return model._base_manager.using(db).filter(condition, pk__in=pks).delete()[0]
    # No need to test the condition again here: nothing makes a deletable row usable
    # again (a revoked row stays revoked, time only moves on), and a row the validity
    # rule refuses cannot be redeemed or rotated meanwhile.
    connection = connections[db]
    qn = connection.ops.quote_name
    size = max(1, connection.ops.bulk_batch_size(["pk"], pks))
    count = 0
    for start in range(0, len(pks), size):
        chunk = pks[start : start + size]
        for rel in relations:
            rel.related_model._base_manager.using(db).filter(
                **{f"{rel.field.name}__in": chunk}
            ).update(**{rel.field.name: None})
        placeholders = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} "  # noqa: S608 (names are quoted metadata)
                f"WHERE {qn(model._meta.pk.column)} IN ({placeholders})",
                chunk,
            )
            count += cursor.rowcount
    return count
