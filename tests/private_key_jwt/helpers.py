"""A client's key pair, and assertions signed with it, as a client library makes them."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from oauthflow.private_key_jwt.assertion import JWT_BEARER
from tests import factories

TOKEN_URL = "http://testserver/oauth/token/"
ISSUER = "http://testserver"


class ClientKey:
    """A private key whose public half a client registers."""

    def __init__(self, alg: str = "ES256", kid: str | None = "k1") -> None:
        self.alg = alg
        if alg.startswith("ES"):
            self.key: Any = ECKey.generate_key({"ES256": "P-256", "ES384": "P-384"}[alg])
        else:
            self.key = RSAKey.generate_key(2048)
        self.kid = kid

    def public_jwk(self) -> dict[str, Any]:
        jwk = self.key.as_dict(private=False)
        if self.kid is not None:
            jwk["kid"] = self.kid
        return jwk

    def jwks(self) -> str:
        return json.dumps({"keys": [self.public_jwk()]})

    def assertion(
        self, client_id: str, *, header: dict | None = None, drop: tuple = (), **claims: Any
    ) -> str:
        now = int(time.time())
        body = {
            "iss": client_id,
            "sub": client_id,
            "aud": TOKEN_URL,
            "exp": now + 60,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        for name in drop:
            body.pop(name, None)
        head = {"alg": self.alg, **({"kid": self.kid} if self.kid else {}), **(header or {})}
        # json.dumps, not joserfc's encoder: a hostile client can send what no careful
        # library would (lone surrogates, NaN, integers too large for a float).
        payload = json.dumps(body).encode()
        return jws.serialize_compact(head, payload, self.key, algorithms=[head["alg"]])


def key_client(key: ClientKey, **fields: Any):
    """A confidential client registered for private_key_jwt with ``key``'s public half."""
    fields.setdefault("grant_types", "client_credentials")
    fields.setdefault("jwks", key.jwks())
    return factories.ClientFactory(token_endpoint_auth_method="private_key_jwt", **fields)


def form(client_id: str, assertion: str, /, **extra: Any) -> dict[str, Any]:
    return {
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        **extra,
    }
