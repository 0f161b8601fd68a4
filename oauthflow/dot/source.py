"""DOT's rows, as plain dicts keyed by column (``user_id``, ``application_id``...).

Two sources give the same rows: ``InstalledSource`` reads the tables through DOT's own
models (``oauth2_provider`` still in INSTALLED_APPS, swapped models honoured), and
``DumpSource`` reads the JSON that ``manage.py dumpdata oauth2_provider`` wrote, for a DOT
database that is not this one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_datetime

#: The kinds of row DOT has, by the model names it gives them.
KINDS = ("application", "accesstoken", "refreshtoken", "grant", "idtoken", "devicegrant")
#: Columns that are foreign keys, in a dump named without ``_id``.
_FOREIGN_KEYS = ("user", "application", "access_token", "source_refresh_token", "id_token")
_DATETIMES = ("created", "updated", "expires", "revoked")


#: The user of a dumped row whose natural key names no user here: such a row is skipped,
#: never imported without a user (it would act as its client).
MISSING_USER = "<no such user>"


class DotSourceError(Exception):
    """The DOT data cannot be read (not installed, not a dump, unreadable)."""


class Source(Protocol):
    description: str
    #: DOT's REFRESH_TOKEN_EXPIRE_SECONDS, or None when its refresh tokens never expire.
    refresh_token_expiry: timedelta | None

    def rows(self, kind: str) -> Iterator[dict[str, Any]]: ...

    def count(self, kind: str) -> int: ...

    def access_tokens(self, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        """The ``expires`` and ``scope`` of these access tokens, by id (a refresh token's
        scope is its access token's: DOT keeps none of its own)."""
        ...

    #: DOT's DEFAULT_SCOPES, "__all__" spelt out; empty when unknown (a dump).
    default_scopes: list[str]


class InstalledSource:
    """The tables of the ``oauth2_provider`` app installed in this project."""

    def __init__(self, *, batch_size: int = 1000) -> None:
        if not apps.is_installed("oauth2_provider"):
            raise DotSourceError(
                "django-oauth-toolkit (oauth2_provider) is not in INSTALLED_APPS: keep it "
                "installed until the import is done, or import from a dump with --dump."
            )
        from oauth2_provider import models as dot
        from oauth2_provider.settings import oauth2_settings

        self._models = {
            "application": dot.get_application_model(),
            "accesstoken": dot.get_access_token_model(),
            "refreshtoken": dot.get_refresh_token_model(),
            "grant": dot.get_grant_model(),
            "idtoken": dot.get_id_token_model(),
            "devicegrant": getattr(dot, "get_device_grant_model", lambda: None)(),
        }
        self._batch_size = batch_size
        self.description = "the oauth2_provider tables of this database"
        self.refresh_token_expiry = _as_timedelta(
            getattr(oauth2_settings, "REFRESH_TOKEN_EXPIRE_SECONDS", None)
        )
        defaults = list(getattr(oauth2_settings, "DEFAULT_SCOPES", []) or [])
        if "__all__" in defaults:
            defaults = list(getattr(oauth2_settings, "SCOPES", {}) or {})
        self.default_scopes = [str(s) for s in defaults]

    def rows(self, kind: str) -> Iterator[dict[str, Any]]:
        model = self._models.get(kind)
        if model is None:
            return iter(())
        return model._default_manager.order_by("pk").values().iterator(self._batch_size)

    def count(self, kind: str) -> int:
        model = self._models.get(kind)
        return 0 if model is None else model._default_manager.count()

    def access_tokens(self, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        model = self._models["accesstoken"]
        # "resource" (RFC 8707) came with DOT 3.
        fields = [f for f in ("pk", "expires", "scope", "resource") if f == "pk" or _has(model, f)]
        rows = model._default_manager.filter(pk__in=list(ids)).values(*fields)
        return {row["pk"]: row for row in rows}


class DumpSource:
    """A ``dumpdata`` JSON file of DOT's models (natural foreign keys allowed for users)."""

    def __init__(
        self,
        path: str | Path,
        *,
        refresh_token_expiry: timedelta | None,
        users_by_pk: bool = False,
    ) -> None:
        self.default_scopes: list[str] = []
        try:
            with open(path, encoding="utf-8") as file:
                objects = json.load(file)
        except (OSError, ValueError) as exc:
            raise DotSourceError(f"Cannot read {path}: {exc}") from exc
        if not isinstance(objects, list):
            raise DotSourceError(f"{path} is not a dumpdata file (a JSON list of objects).")
        by_pk = any(
            isinstance(obj, dict)
            and isinstance(obj.get("fields"), dict)
            and obj["fields"].get("user") is not None
            and not isinstance(obj["fields"]["user"], list)
            for obj in objects
        )
        if by_pk and not users_by_pk:
            raise DotSourceError(
                f"{path} names users by primary key: in another database the same key "
                "may be someone else. Dump with `dumpdata oauth2_provider --natural-foreign` "
                "(users by username), or pass --users-by-pk if this database's users are "
                "the same rows (a copy of the same database)."
            )
        self._rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        users = _UserKeys()
        for obj in objects:
            kind = _kind_of(obj)
            if kind is not None:
                self._rows[kind].append(_row_of(obj, users))
        if not any(self._rows.values()):
            raise DotSourceError(
                f"{path} holds no django-oauth-toolkit rows: make it with "
                "`manage.py dumpdata oauth2_provider`."
            )
        # dumpdata --natural-foreign names an application by its natural key, [client_id].
        by_client_id = {app.get("client_id"): app["id"] for app in self._rows["application"]}
        for rows in self._rows.values():
            for row in rows:
                if isinstance(row.get("application_id"), list):
                    row["application_id"] = by_client_id.get(
                        next(iter(row["application_id"]), None)
                    )
            rows.sort(key=lambda row: row["id"])
        self.description = str(path)
        self.refresh_token_expiry = refresh_token_expiry
        self._access_tokens = {row["id"]: row for row in self._rows["accesstoken"]}

    def rows(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(self._rows[kind])

    def count(self, kind: str) -> int:
        return len(self._rows[kind])

    def access_tokens(self, ids: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        return {i: self._access_tokens[i] for i in ids if i in self._access_tokens}


def _kind_of(obj: Any) -> str | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), str):
        raise DotSourceError("Not a dumpdata file: each object needs a 'model'.")
    # "oauth2_provider.accesstoken", or a swapped model's label ending the same way.
    name = obj["model"].rpartition(".")[2]
    return name if name in KINDS else None


def _row_of(obj: dict[str, Any], users: _UserKeys) -> dict[str, Any]:
    fields = obj.get("fields")
    if not isinstance(fields, dict) or "pk" not in obj:
        raise DotSourceError(f"Not a dumpdata object: {obj.get('model')} without pk or fields.")
    row = {"id": obj["pk"]}
    for name, value in fields.items():
        if name in _FOREIGN_KEYS:
            row[f"{name}_id"] = users.pk(value) if name == "user" else value
        elif name in _DATETIMES and isinstance(value, str):
            row[name] = _parse_datetime(value)
        else:
            row[name] = value
    return row


def _parse_datetime(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise DotSourceError(f"Not a date and time: {value!r}")
    return parsed


class _UserKeys:
    """Users' pks from the natural keys of a dump, each looked up once: a user holds many
    tokens."""

    def __init__(self) -> None:
        self._found: dict[tuple[Any, ...], Any] = {}

    def pk(self, value: Any) -> Any:
        """A user's pk, from a pk or a natural key (``dumpdata --natural-foreign``)."""
        if not isinstance(value, list):
            return value
        key = tuple(value)
        if key not in self._found:
            model = get_user_model()
            try:
                self._found[key] = model._default_manager.get_by_natural_key(*key).pk
            except model.DoesNotExist:
                self._found[key] = MISSING_USER
        return self._found[key]


def _as_timedelta(value: Any) -> timedelta | None:
    if not value:
        return None
    if isinstance(value, timedelta):
        return value
    try:
        return timedelta(seconds=value)
    except (TypeError, OverflowError) as exc:
        raise ImproperlyConfigured(
            "OAUTH2_PROVIDER['REFRESH_TOKEN_EXPIRE_SECONDS'] must be seconds or a timedelta."
        ) from exc


def _has(model: Any, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())
