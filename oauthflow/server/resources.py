"""Resource indicators (RFC 8707): which APIs a token is for.

A client names them with ``resource`` (repeatable) at the authorization endpoint, at the
token endpoint, or both; each must be a registered, active :class:`~oauthflow.models.
Resource` the client may ask for, or the answer is ``invalid_target``. What the
authorization named bounds every token issued from it: a code exchange or a refresh may
name fewer (one, usually), never others. Requests that name none get no audience and the
default format, as before. Several resources in one token must share a token format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.db import connections, router
from django.db.models import Field

from ..models import Client, Resource
from ..scope import list_to_scope, scope_to_list
from .errors import InvalidTargetError

#: At most this many resources in one request.
MAX_RESOURCES = 10


def requested(payload: Any) -> list[str]:
    """The ``resource`` values of a request, checked for shape (RFC 8707 §2)."""
    values = list(dict.fromkeys(payload.datalist.get("resource", [])))
    if len(values) > MAX_RESOURCES:
        raise InvalidTargetError("Too many resources in one request.")
    for value in values:
        try:
            parts = urlsplit(value)
        except ValueError:  # "https://[::1/"
            raise InvalidTargetError("A resource is an absolute URI without a fragment.") from None
        if len(value) > 255 or not parts.scheme or not parts.netloc or "#" in value:
            raise InvalidTargetError("A resource is an absolute URI without a fragment.")
    return values


def resolve(
    client: Client, identifiers: list[str], granted: Iterable[str] | None = None
) -> list[Resource]:
    """The resources a token is for: ``identifiers``, or else what the authorization
    ``granted``; each active and allowed for ``client``, within ``granted`` when given."""
    granted = list(granted or [])
    if not identifiers:
        identifiers = granted
    elif granted and not set(identifiers) <= set(granted):
        raise InvalidTargetError("The resource was not part of this authorization.")
    if not identifiers:
        return []
    # Matched again here, exactly: MariaDB compares these columns without case.
    wanted = set(identifiers)
    found = {r.identifier: r for r in _allowed(client, identifiers) if r.identifier in wanted}
    if len(found) != len(wanted):
        raise InvalidTargetError("The resource is unknown or not allowed for this client.")
    resources = [found[i] for i in identifiers]
    if len({r.token_format for r in resources}) > 1:
        raise InvalidTargetError("These resources take different token formats: name one.")
    if len({r.signing_alg for r in resources if r.token_format == Resource.JWT}) > 1:
        raise InvalidTargetError("These resources' tokens are signed differently: name one.")
    return resources


#: What a token request reads of a resource; the rest loads on first use.
_FIELDS = ("id", "identifier", "scopes", "token_format", "signing_alg", "access_token_lifetime")


def _allowed(client: Client, identifiers: list[str]) -> list[Resource]:
    """The active resources among ``identifiers`` that ``client`` may ask for: one SELECT
    on a cursor, its SQL from model metadata, since compiling the ORM's join costs more
    than running it on the token endpoint's hot path (as ``oauthflow.store.lookups``)."""
    db = router.db_for_read(Resource)
    connection = connections[db]
    qn = connection.ops.quote_name
    through = Client.resources.through._meta
    link_client = _column(through, "client")
    link_resource = _column(through, "resource")
    meta = Resource._meta
    columns = ", ".join(f"r.{qn(_column(meta, f))}" for f in _FIELDS)
    marks = ", ".join(["%s"] * len(identifiers))
    sql = (
        f"SELECT {columns} FROM {qn(meta.db_table)} r "  # noqa: S608 (quoted metadata)
        f"JOIN {qn(through.db_table)} t ON t.{qn(link_resource)} = r.{qn(_column(meta, 'id'))} "
        f"WHERE t.{qn(link_client)} = %s AND r.{qn(_column(meta, 'is_active'))} = %s "
        f"AND r.{qn(_column(meta, 'identifier'))} IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [client.pk, True, *identifiers])
        rows = cursor.fetchall()
    return [Resource.from_db(db, list(_FIELDS), row) for row in rows]


def _column(meta: Any, name: str) -> str:
    field: Field[Any, Any] = meta.get_field(name)
    return str(field.column)


def narrow_scope(scope: str, resources: list[Resource]) -> str:
    """``scope`` less what none of ``resources`` accepts (a resource with no scope list
    accepts every scope)."""
    if not resources or any(not r.scope_list for r in resources):
        return scope
    accepted = {s for r in resources for s in r.scope_list}
    return list_to_scope(s for s in scope_to_list(scope) if s in accepted)


def check_authorization(request: Any, grant: Any, user: Any) -> None:
    """An authorization check: the request's resources exist and are the client's."""
    resolve(grant.client, requested(grant.request.payload))
