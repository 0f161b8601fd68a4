"""The authorization endpoint's ``request_uri`` (RFC 9126 §4).

The first authorization request naming a live ``request_uri`` of its ``client_id`` uses
the pushed request up (a conditional UPDATE: of two browsers, one wins) and binds it to
that browser's session, which keeps only the reference's digest: the parameters stay in
the database row, never in a cookie. The sign-in and the consent form that follow come
back to the same URL, and a reload works (§4 allows it), until the authorization
response is sent (then the session forgets it) or ``SESSION_LIFETIME`` ends. Another
browser presenting it is refused. Parameters in the URL besides ``client_id`` and
``request_uri`` are ignored.

Signing in as another account in the middle of the flow starts a new session (Django's
``login``), which no longer holds the reference: the client must push again.
"""

from __future__ import annotations

import time
from datetime import timedelta
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


_REFUSED = "The request_uri is unknown, expired, already used, or another client's."


def resolve(request: Any, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    query = dict(pairs)
    client_id = query.get("client_id")
    request_uri = query.get("request_uri", "")
    if not client_id:
        raise InvalidRequestError("Missing 'client_id' beside request_uri.")
    if not request_uri.startswith(URN_PREFIX) or len(request_uri) > 200:
        raise InvalidRequestUriError("The request_uri is not one this server issued.")
    digest = tokens.digest(request_uri)
    if _held(request, digest):
        params = _params_of_used(digest, client_id)
    else:
        params = _use(digest, client_id)
        _hold(request, digest)
    request.oauthflow_pushed = True
    request.oauthflow_pushed_digest = digest
    # Called by the authorization endpoint as it answers the client (a code or an error):
    # the flow ends there, and the browser no longer holds the request.
    request.oauthflow_answered = lambda: forget(None, request)
    return [(str(k), str(v)) for k, v in params]


def _use(digest: str, client_id: str) -> list[Any]:
    now = timezone.now()
    found = (
        PushedRequest.objects.filter(
            digest=digest, client__client_id=client_id, used_at__isnull=True, expires_at__gt=now
        )
        .values_list("pk", "parameters")
        .first()
    )
    # The row now lives as long as the browser may come back to it.
    if found is None or not PushedRequest.objects.filter(pk=found[0], used_at__isnull=True).update(
        used_at=now, expires_at=now + timedelta(seconds=SESSION_LIFETIME)
    ):
        raise InvalidRequestUriError(_REFUSED)
    return list(found[1])


def _params_of_used(digest: str, client_id: str) -> list[Any]:
    found = (
        PushedRequest.objects.filter(
            digest=digest,
            client__client_id=client_id,
            used_at__isnull=False,
            expires_at__gt=timezone.now(),
        )
        .values_list("parameters", flat=True)
        .first()
    )
    if found is None:
        raise InvalidRequestUriError(_REFUSED)
    return list(found)


def _entries(request: Any) -> dict[str, float]:
    entries = request.session.get(SESSION_KEY)
    if not isinstance(entries, dict):
        return {}
    now = time.time()
    return {k: v for k, v in entries.items() if isinstance(v, (int, float)) and v > now}


def _held(request: Any, digest: str) -> bool:
    return digest in _entries(request)


def _hold(request: Any, digest: str) -> None:
    entries = _entries(request)
    entries[digest] = time.time() + SESSION_LIFETIME
    while len(entries) > _SESSION_ENTRIES:
        entries.pop(min(entries, key=lambda k: entries[k]))
    request.session[SESSION_KEY] = entries


def forget(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Once the authorization response is sent (a code, a denial or any error redirect),
    the browser no longer holds the pushed request: a reload or the Back button cannot
    get a second answer."""
    digest = getattr(request, "oauthflow_pushed_digest", None)
    if digest is None or not hasattr(request, "session"):
        return
    entries = _entries(request)
    if entries.pop(digest, None) is not None:
        request.session[SESSION_KEY] = entries
