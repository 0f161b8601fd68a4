"""Reading an ``id_token_hint``: an ID token this server issued."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from joserfc import jws, jwt
from joserfc.errors import JoseError

from .. import keys
from ..models import Client

INVALID = "The id_token_hint is not an ID token this server issued to this client."


def verify(value: str, issuer: str) -> dict[str, Any]:
    """The claims of ``value``, checked: signed by a key this server publishes, with the
    algorithm that key is for, issued by ``issuer``, naming a subject and an audience.
    Expiry is not checked: a hint may be old (Core §3.1.2.1, RP-Initiated Logout §2).
    Anything else is ``invalid_request``."""
    try:
        header = jws.extract_compact(value.encode()).protected
        kid = header.get("kid")
        key = keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != key.alg:
            raise InvalidRequestError(INVALID)
        claims: dict[str, Any] = dict(jwt.decode(value, key, algorithms=[key.alg]).claims)
    except (JoseError, ValueError, TypeError):
        raise InvalidRequestError(INVALID) from None
    if (
        "events" in claims  # a logout token, not an ID token
        or header.get("typ") not in (None, "JWT")
        or claims.get("iss") != issuer
        or not isinstance(claims.get("sub"), str)
        or not audiences(claims)
    ):
        raise InvalidRequestError(INVALID)
    return claims


def audiences(claims: dict[str, Any]) -> list[str]:
    audience = claims.get("aud")
    found = audience if isinstance(audience, list) else [audience]
    return [a for a in found if isinstance(a, str)]


def subject(value: str, client: Client, issuer: str) -> str:
    """The ``sub`` of ``value`` (see :func:`verify`), which must be ``client``'s."""
    claims = verify(value, issuer)
    if client.client_id not in audiences(claims):
        raise InvalidRequestError(INVALID)
    return str(claims["sub"])
