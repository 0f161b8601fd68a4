"""Who may register a client, and who may manage a registration.

Both credentials are Bearer tokens (RFC 6750) in the ``Authorization`` header, stored
as digests (``oauthflow.tokens``): a lookup digests the presented value and asks for
that digest on a unique index, so a stolen database yields no usable token.

* An initial access token is checked twice: read first, before the request body is
  judged (someone without a token learns nothing about what would be accepted), then
  used up inside the transaction that creates the client, by one conditional UPDATE
  (``use_initial_access_token``): of concurrent registrations, no more succeed than the
  token has uses left, and a registration that fails afterwards gives its use back.
* A registration access token names one client. Wrong, unknown, another client's, or a
  client staff deactivated: the same 401, so the answer never says whether a client
  exists.
"""

from __future__ import annotations

import hmac
import re

from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .. import tokens
from .models import ClientRegistration, InitialAccessToken, usable

_BEARER = re.compile(r"Bearer +(?P<token>\S+) *", re.IGNORECASE)


class Unauthorized(Exception):
    """401 with ``WWW-Authenticate: Bearer``; ``error`` None when no token was sent
    (RFC 6750 §3.1: then no error code)."""

    def __init__(self, error: str | None = "invalid_token") -> None:
        super().__init__(error)
        self.error = error


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one (no header, or
    another scheme).

    A value that cannot be one of ours is ``invalid_token``: refused before any hashing
    or query.
    """
    header = request.headers.get("Authorization") or ""
    if not header.lower().startswith("bearer"):
        return None
    match = _BEARER.fullmatch(header)
    if match is None or not tokens.is_plausible(match["token"]):
        raise Unauthorized()
    return match["token"]


# Initial access tokens ----------------------------------------------------------------------


def new_initial_access_token(
    *, expires_at: object = None, uses: int | None = None, note: str = ""
) -> tuple[InitialAccessToken, str]:
    """Store a new initial access token; the row and the value, which is shown once."""
    value = tokens.generate(tokens.INITIAL_ACCESS_TOKEN_PREFIX)
    row = InitialAccessToken.objects.create(
        digest=tokens.digest(value),
        hint=tokens.hint(value),
        expires_at=expires_at,
        uses_left=uses,
        note=note,
    )
    return row, value


def check_initial_access_token(value: str) -> InitialAccessToken:
    """The usable token ``value`` is, or ``Unauthorized``. Reads only."""
    row = InitialAccessToken.objects.filter(
        usable(timezone.now()), digest=tokens.digest(value)
    ).first()
    if row is None:
        raise Unauthorized()
    return row


def use_initial_access_token(row: InitialAccessToken) -> None:
    """Count one use of ``row``: a conditional UPDATE, so it wins only while the token is
    still usable (another request may have used its last use, or staff revoked it, since
    it was read). Run it in the registration's transaction."""
    now = timezone.now()
    # uses_left NULL (no limit) stays NULL: NULL - 1 is NULL.
    used = InitialAccessToken.objects.filter(usable(now), pk=row.pk).update(
        uses_left=F("uses_left") - 1, last_used_at=now
    )
    if not used:
        raise Unauthorized()


# Registration access tokens -----------------------------------------------------------------


def new_registration_access_token() -> tuple[str, str, str]:
    """A new registration access token: (value, digest, hint). The value is shown once."""
    value = tokens.generate(tokens.REGISTRATION_ACCESS_TOKEN_PREFIX)
    return value, tokens.digest(value), tokens.hint(value)


def registration_for(request: HttpRequest, client_id: str) -> ClientRegistration:
    """The registration of the active client ``client_id`` whose registration access token
    the request carries, or ``Unauthorized`` (the same for every reason)."""
    value = bearer_token(request)
    if value is None:
        raise Unauthorized(None)
    registration = (
        ClientRegistration.objects.select_related("client")
        .filter(access_token_digest=tokens.digest(value))
        .first()
    )
    if registration is None:
        raise Unauthorized()
    # Compared in constant time, though a client_id is no secret: what differs must not
    # tell a valid token of another client from an invalid one.
    same = hmac.compare_digest(
        registration.client.client_id.encode("utf-8", "surrogatepass"),
        client_id.encode("utf-8", "surrogatepass"),
    )
    if not same or not registration.client.is_active:
        raise Unauthorized()
    return registration
