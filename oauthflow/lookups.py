"""Unique-row lookups on the hot paths, compiled once per thread and database.

Every token request and every protected API call starts by fetching one row by a unique
column: a client by ``client_id``, a token or code by its digest. Building that query
with the ORM costs more than running it: on the bench machine, a token's
``select_related("client", "user").get(...)`` took about 0.9 ms in-process and the same
SQL on a cursor about 0.35 ms, PostgreSQL's round trip included. A :class:`Lookup` lets the ORM
compile the query once, with a marker where the value goes, then runs the same SQL with
each new value and turns the row into model instances with the ORM's own converters and
related-object populators, so the result is what ``queryset.get()`` returns
(``tests/test_lookups.py`` holds the two side by side on every field).

The SQL is the ORM's, never written by hand. The compiler pieces used here
(``select``, ``klass_info``, ``get_converters``, ``get_related_populators``) are the ones
Django's own ``ModelIterable`` uses. A query it cannot safely re-run falls back to the
plain ORM: the value used more than once or not verbatim (a case-insensitive match that
escapes it), other parameters that change between compilations (a timestamp),
annotations, composite keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.dispatch import receiver

M = TypeVar("M", bound=Model)

# Stand in for the looked-up value while the ORM compiles; never sent to the database.
# Two, so a query whose other parameters change between compilations (a timestamp, say)
# is caught. Each holds what any preparation of a value would change (LIKE wildcards and
# escapes, upper and lower case), so only a value the ORM passes through untouched, as it
# does for an exact match, is re-run by slot.
_MARKERS = ("\x1fOf%_\\Lookup-Marker-A\x1f", "\x1fOf%_\\Lookup-Marker-B\x1f")


class _Unsupported(Exception):
    """The compiled query is not one this module knows how to re-run."""


class _Plan:
    """A compiled lookup: its SQL and how to turn its one row into model instances."""

    __slots__ = (
        "converters",
        "end",
        "from_db_kwargs",
        "init_list",
        "params",
        "populators",
        "slot",
        "sql",
        "start",
    )

    def __init__(self, model: type[Model], build: Callable[[str], QuerySet], db: str) -> None:
        compiled = []
        for marker in _MARKERS:
            queryset = build(marker).order_by()  # a unique lookup needs no sort
            if queryset.model is not model:
                raise _Unsupported
            compiler = queryset.query.get_compiler(using=db)
            sql, params = compiler.as_sql()
            slots = [i for i, p in enumerate(params) if isinstance(p, str) and p == marker]
            if len(slots) != 1:
                raise _Unsupported
            compiled.append((sql, [p for i, p in enumerate(params) if i != slots[0]], slots[0]))
        (self.sql, others, self.slot), second = compiled
        if (self.sql, others, self.slot) != second:
            raise _Unsupported  # something else in the query changes from call to call
        self.params = list(params)
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[: compiler.col_count]]
        composite = getattr(compiler, "has_composite_fields", None)  # Django 5.2+
        if compiler.annotation_col_map or (composite and composite(fields)):
            raise _Unsupported
        self.converters = list(compiler.get_converters(fields).items())
        self.start = klass_info["select_fields"][0]
        self.end = klass_info["select_fields"][-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        # Django 6.1 added fetch modes: the related populators take the queryset's, and
        # ModelIterable hands it to from_db() too. Earlier versions have neither.
        fetch_mode = getattr(queryset, "_fetch_mode", None)
        if fetch_mode is None:
            self.from_db_kwargs: dict[str, Any] = {}
            self.populators = get_related_populators(klass_info, select, db)
        else:
            self.from_db_kwargs = {"fetch_mode": fetch_mode}
            self.populators = get_related_populators(klass_info, select, db, fetch_mode)


class Lookup(Generic[M]):
    """A lookup of one row by a unique column.

    ``Lookup(Client, lambda value: Client.objects.filter(client_id=value))``, then
    ``.get(value)``: the matching instance (with whatever ``select_related`` joined) or
    None. The queryset must use ``value`` once, in an exact filter on a unique column;
    anything else in it must not change from call to call (a query that does falls back
    to the plain ORM).
    """

    def __init__(self, model: type[M], build: Callable[[str], QuerySet[M]]) -> None:
        self.model = model
        self.build = build
        self._local = threading.local()  # plans per thread: see _plan

    def get(self, value: str) -> M | None:
        db = router.db_for_read(self.model)
        plan = self._plan(db)
        if plan is None:
            try:
                return self.build(value).order_by().using(db).get()
            except self.model.DoesNotExist:
                return None
        params = list(plan.params)
        params[plan.slot] = value
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned("A unique lookup matched several rows.")
        row = list(rows[0])
        for position, (converters, expression) in plan.converters:
            converted = row[position]
            for convert in converters:
                converted = convert(converted, expression, connection)
            row[position] = converted
        instance = self.model.from_db(
            db, plan.init_list, row[plan.start : plan.end], **plan.from_db_kwargs
        )
        for populator in plan.populators:
            populator.populate(row, instance)
        return instance

    def _plan(self, db: str) -> _Plan | None:
        # Per thread: the converters are bound to the compiling thread's connection.
        local = self._local
        if getattr(local, "generation", None) != _generation:
            local.plans, local.generation = {}, _generation
        try:
            return local.plans[db]
        except KeyError:
            pass
        try:
            plan: _Plan | None = _Plan(self.model, self.build, db)
        except Exception:
            # _Unsupported, or a query the ORM cannot compile for a marker (EmptyResultSet,
            # a field that validates its value): the ORM answers, and raises if it must.
            plan = None
        local.plans[db] = plan
        return plan


_generation = 0


@receiver(setting_changed)
def _forget_plans(**kwargs: Any) -> None:
    """Compiled SQL depends on the databases and models; tests may change both."""
    global _generation
    if kwargs["setting"] in ("DATABASES", "AUTH_USER_MODEL", "INSTALLED_APPS"):
        _generation += 1


# The lookups on the hot paths. The grants already hold the authenticated client, so
# theirs join only the user.
from .models import AccessToken, AuthorizationCode, Client, RefreshToken  # noqa: E402

active_client = Lookup(Client, lambda value: Client.objects.active().filter(client_id=value))
access_token = Lookup(
    AccessToken,
    lambda value: AccessToken.objects.select_related("client", "user").filter(digest=value),
)
refresh_token = Lookup(
    RefreshToken,
    lambda value: RefreshToken.objects.select_related("client", "user").filter(digest=value),
)
code_for_grant = Lookup(
    AuthorizationCode,
    lambda value: AuthorizationCode.objects.select_related("user").filter(digest=value),
)
refresh_token_for_grant = Lookup(
    RefreshToken, lambda value: RefreshToken.objects.select_related("user").filter(digest=value)
)
