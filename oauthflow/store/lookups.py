"""One-row lookups on the hot paths, with their SQL built once from the models' metadata.

Every token request and every protected API call starts by fetching one row by a unique
column: a client by ``client_id``, a token or code by its digest, with its client and user
joined in. Building that query through the ORM costs more than running it (on the bench
machine about 0.9 ms in-process against 0.35 ms for the same SQL on a cursor, PostgreSQL's
round trip included), so a :class:`RowLookup` writes its SELECT once per thread and
database from public model metadata (``_meta.db_table``, each field's ``column``,
``connection.ops.quote_name``), then runs it with each new value and hydrates the row
with ``Model.from_db``, converting each value with the same converters the ORM applies
(the backend's and the field's ``from_db_value``). ``tests/store/test_lookups.py`` holds
the results against ``queryset.get()`` field by field.

A model this cannot read faithfully (multi-table inheritance, a field without a column
such as a composite primary key) is read through the ORM instead, and the first such
read logs a warning naming the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models import Field, ForeignKey, Model
from django.dispatch import receiver

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class Unsupported(Exception):
    """The model has a shape a hand-built SELECT would read wrongly; the ORM reads it."""


@dataclass(frozen=True)
class _Part:
    """One model in the SELECT: the columns ``start:end`` of the row hold its fields."""

    model: type[Model]
    attnames: list[str]
    start: int
    end: int
    relation: str | None  # the foreign key on the main model it is reached by
    fk_attname: str | None  # that key's attribute (``user_id``)
    nullable: bool  # an outer join: all NULL when the foreign key is


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: list[_Part]
    converters: list[tuple[int, list[Converter], Any]]


def _columns_of(model: type[Model]) -> list[Any]:
    meta = model._meta
    if meta.parents:
        raise Unsupported(f"{meta.label} inherits from another concrete model")
    fields = list(meta.concrete_fields)
    if any(f.column is None for f in fields):
        raise Unsupported(f"{meta.label} has a field without a column")
    return fields


def _build(model: type[Model], column_field: str, related: tuple[str, ...], db: str) -> _Plan:
    connection = connections[db]
    qn = connection.ops.quote_name
    meta = model._meta
    selected: list[tuple[str, Any]] = []  # (table alias, field)
    parts: list[_Part] = []
    joins: list[str] = []

    def add(part_model: type[Model], alias: str, fk: ForeignKey | None) -> None:
        fields = _columns_of(part_model)
        start = len(selected)
        selected.extend((alias, f) for f in fields)
        attnames = [f.attname for f in fields]
        relation, attname = (fk.name, fk.attname) if fk is not None else (None, None)
        nullable = fk is not None and fk.null
        parts.append(_Part(part_model, attnames, start, len(selected), relation, attname, nullable))

    add(model, "t0", None)
    for number, name in enumerate(related, start=1):
        fk = meta.get_field(name)
        if not isinstance(fk, ForeignKey):
            raise Unsupported(f"{meta.label}.{name} is not a foreign key")
        target = fk.related_model
        alias = f"t{number}"
        kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
        joins.append(
            f"{kind} {qn(target._meta.db_table)} {alias} "
            f"ON (t0.{qn(fk.column)} = {alias}.{qn(fk.target_field.column)})"
        )
        add(target, alias, fk)
    key = meta.get_field(column_field)
    if not isinstance(key, Field) or not key.column:
        raise Unsupported(f"{meta.label}.{column_field} is not a column")
    if not (key.unique or _unique_by_constraint(model, column_field)):
        raise Unsupported(f"{meta.label}.{column_field} is not unique")
    columns = ", ".join(f"{alias}.{qn(f.column)}" for alias, f in selected)
    # Only quoted names from the models' metadata go into the text; the value is a
    # parameter.
    sql = (
        f"SELECT {columns} FROM {qn(meta.db_table)} t0 {' '.join(joins)} "  # noqa: S608
        f"WHERE t0.{qn(key.column)} = %s"
    )
    converters = []
    for position, (alias, field) in enumerate(selected):
        col = field.get_col(alias)
        # The column's converters, as the ORM's compiler takes them: for a foreign key
        # they include the target field's (a custom primary key type).
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((position, found, col))
    return _Plan(sql, parts, converters)


def _unique_by_constraint(model: type[Model], field: str) -> bool:
    return any(
        list(getattr(constraint, "fields", ())) == [field]
        and not getattr(constraint, "condition", None)
        for constraint in model._meta.constraints
    )


class RowLookup(Generic[M]):
    """Fetch the one ``model`` row whose ``column_field`` equals a value, with the rows
    of the ``related`` foreign keys loaded, as ``select_related(*related).get()`` would.

    ``.get(value)``: the instance, or None.
    """

    def __init__(self, model: type[M], column_field: str, related: tuple[str, ...] = ()):
        self.model = model
        self.column_field = column_field
        self.related = related
        self._local = threading.local()  # plans per thread: see _plan
        self._warned = False

    def get(self, value: str) -> M | None:
        db = router.db_for_read(self.model)
        plan = self._plan(db)
        if plan is None:
            return self._orm_get(value, db)
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, [value])
            rows = cursor.fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(  # type: ignore[attr-defined]
                "A unique lookup matched several rows."
            )
        row = list(rows[0])
        for position, functions, expression in plan.converters:
            converted = row[position]
            for convert in functions:
                converted = convert(converted, expression, connection)
            row[position] = converted
        main, *others = plan.parts
        instance = main.model.from_db(db, main.attnames, row[main.start : main.end])
        for part in others:
            values = row[part.start : part.end]
            # An outer join that found nothing: the foreign key is NULL.
            if part.nullable and getattr(instance, part.fk_attname) is None:  # type: ignore[arg-type]
                related = None
            else:
                related = part.model.from_db(db, part.attnames, values)
            setattr(instance, part.relation, related)  # type: ignore[arg-type]
        return instance

    def _orm_get(self, value: str, db: str) -> M | None:
        queryset = self.model._default_manager.using(db).select_related(*self.related)
        try:
            return queryset.get(**{self.column_field: value})
        except self.model.DoesNotExist:  # type: ignore[attr-defined]
            return None

    def _plan(self, db: str) -> _Plan | None:
        # Per thread: the backend's converters are bound to this thread's connection.
        local = self._local
        if getattr(local, "generation", None) != _generation:
            local.plans, local.generation = {}, _generation
        try:
            return local.plans[db]
        except KeyError:
            pass
        try:
            plan: _Plan | None = _build(self.model, self.column_field, self.related, db)
        except Unsupported as reason:
            plan = None
            if not self._warned:
                self._warned = True
                logger.warning(
                    "oauthflow reads %s through the ORM (slower): %s.",
                    self.model._meta.label,
                    reason,
                )
        local.plans[db] = plan
        return plan

    def compiles(self, db: str = "default") -> bool:
        """Whether this lookup runs its own SQL on ``db`` (tests assert every shipped one does)."""
        return self._plan(db) is not None


_generation = 0


@receiver(setting_changed)
def _forget_plans(**kwargs: Any) -> None:
    """The SQL depends on the databases and models; tests may change both."""
    global _generation
    if kwargs["setting"] in ("DATABASES", "AUTH_USER_MODEL", "INSTALLED_APPS"):
        _generation += 1


# The lookups on the hot paths. The grants already hold the authenticated client, so
# theirs join only the user.
from ..models import (  # noqa: E402
    AccessToken,
    Authentication,
    AuthorizationCode,
    Client,
    RefreshToken,
    Subject,
)

client = RowLookup(Client, "client_id")
access_token = RowLookup(AccessToken, "digest", ("client", "user"))
refresh_token = RowLookup(RefreshToken, "digest", ("client", "user"))
code_for_grant = RowLookup(AuthorizationCode, "digest", ("user",))
refresh_token_for_grant = RowLookup(RefreshToken, "digest", ("user",))
#: OpenID Connect's record of a sign-in, by its authorization's family (unique).
authentication = RowLookup(Authentication, "family")
#: A JWT access token's user, by its subject.
subject = RowLookup(Subject, "public", ("user",))

SHIPPED = (
    client,
    access_token,
    refresh_token,
    code_for_grant,
    refresh_token_for_grant,
    authentication,
    subject,
)
