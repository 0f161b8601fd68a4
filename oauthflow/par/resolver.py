"""The authorization endpoint's ``request_uri`` (RFC 9126 §4).

The first authorization request naming a live ``request_uri`` of its ``client_id`` uses
the pushed request up (a conditional UPDATE: of two browsers, one wins) and keeps its
parameters in that browser's session, under the ``request_uri``'s digest: the sign-in
and the consent form that follow come back to the same URL, and a reload works (§4 allows
it), until ``SESSION_LIFETIME``. Another browser presenting it is refused. Parameters in
the URL besides ``client_id`` and ``request_uri`` are ignored.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from django.utils import timezone

from .. import tokens
from .endpoint import URN_PREFIX
from .models import PushedRequest

SESSION_KEY = "oauthflow_par"
#: How long a browser keeps a pushed request it brought (sign-in and consent included).
SESSION_LIFETIME = 1800
#: At most this many in one session (the oldest go first).
_SESSION_ENTRIES = 5


class InvalidRequestUriError(OAuth2Error):
    error = "invalid_request_uri"


def resolve(request: Any, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    query = dict(pairs)
    client_id = query.get("client_id")
    request_uri = query.get("request_uri", "")
    if not client_id:
        raise InvalidRequestError("Missing 'client_id' beside request_uri.")
    if not request_uri.startswith(URN_PREFIX) or len(request_uri) > 200:
        raise InvalidRequestUriError("The request_uri is not one this server issued.")
    digest = tokens.digest(request_uri)
    kept = _from_session(request, digest)
    if kept is None:
        kept = _use(digest, client_id)
        _keep(request, digest, kept)
    if dict(kept).get("client_id") != client_id:
        raise InvalidRequestUriError("The request_uri is not this client's.")
    request.oauthflow_pushed = True
    return [(str(k), str(v)) for k, v in kept]


def _use(digest: str, client_id: str) -> list[Any]:
    now = timezone.now()
    found = PushedRequest.objects.filter(
        digest=digest, client__client_id=client_id, used_at__isnull=True, expires_at__gt=now
    )
    pushed = found.select_related(None).values_list("pk", "parameters").first()
    if pushed is None or not PushedRequest.objects.filter(
        pk=pushed[0], used_at__isnull=True
    ).update(used_at=now):
        raise InvalidRequestUriError(
            "The request_uri is unknown, expired, already used, or another client's."
        )
    return list(pushed[1])


def _from_session(request: Any, digest: str) -> list[Any] | None:
    entries = request.session.get(SESSION_KEY)
    if not isinstance(entries, dict):
        return None
    entry = entries.get(digest)
    if not isinstance(entry, dict) or entry.get("until", 0) < time.time():
        return None
    params = entry.get("params")
    return params if isinstance(params, list) else None


def _keep(request: Any, digest: str, params: list[Any]) -> None:
    entries = request.session.get(SESSION_KEY)
    if not isinstance(entries, dict):
        entries = {}
    now = time.time()
    entries = {k: v for k, v in entries.items() if isinstance(v, dict) and v.get("until", 0) > now}
    entries[digest] = {"params": params, "until": now + SESSION_LIFETIME}
    while len(entries) > _SESSION_ENTRIES:
        entries.pop(min(entries, key=lambda k: entries[k]["until"]))
    request.session[SESSION_KEY] = entries


def require(request: Any, grant: Any, user: Any) -> None:
    """An authorization check: a client (or the site) that requires PAR gets nothing for a
    request that was not pushed (RFC 9126 §5, §6)."""
    from ..settings import oauthflow_settings

    if getattr(request, "oauthflow_pushed", False):
        return
    if (
        oauthflow_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS
        or grant.client.require_pushed_authorization_requests
    ):
        raise InvalidRequestError("Authorization requests must be pushed first (PAR).")
