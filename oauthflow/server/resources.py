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
    allowed = client.resources.filter(identifier__in=identifiers, is_active=True)
    found = {r.identifier: r for r in allowed if r.identifier in wanted}
    if len(found) != len(wanted):
        raise InvalidTargetError("The resource is unknown or not allowed for this client.")
    resources = [found[i] for i in identifiers]
    if len({r.token_format for r in resources}) > 1:
        raise InvalidTargetError("These resources take different token formats: name one.")
    return resources


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
