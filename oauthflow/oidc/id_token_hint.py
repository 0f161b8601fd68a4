"""Reading an ``id_token_hint``: an ID token this server issued to this client."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from joserfc import jws, jwt
from joserfc.errors import JoseError

from .. import keys
from ..models import Client

INVALID = "The id_token_hint is not an ID token this server issued to this client."


def subject(value: str, client: Client, issuer: str) -> str:
    """The ``sub`` of ``value``, checked: signed by a key this server publishes, with the
    algorithm that key is for, issued by ``issuer`` to ``client``. Expiry is not checked:
    a hint may be old (Core §3.1.2.1). Anything else is ``invalid_request``."""
    try:
        header = jws.extract_compact(value.encode()).protected
        kid = header.get("kid")
        key = keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != key.alg:
            raise InvalidRequestError(INVALID)
        claims: dict[str, Any] = jwt.decode(value, key, algorithms=[key.alg]).claims
    except (JoseError, ValueError, TypeError):
        raise InvalidRequestError(INVALID) from None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    sub = claims.get("sub")
    if claims.get("iss") != issuer or client.client_id not in audiences or not isinstance(sub, str):
        raise InvalidRequestError(INVALID)
    return sub
