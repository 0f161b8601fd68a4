"""A DPoP client's part, written out with joserfc: a key, and proofs made with it."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jws, jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from oauthflow.dpop.proof import ath

TOKEN_URL = "http://testserver/oauth/token/"

_REGISTRY = jws.JWSRegistry(algorithms=["ES256", "ES384", "PS256", "RS256", "EdDSA", "HS256"])


class DPoPKey:
    """A client's key pair; ``proof()`` signs a proof JWT as RFC 9449 §4.2 says."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        if alg.startswith("ES"):
            self.key: Any = ECKey.generate_key({"ES256": "P-256", "ES384": "P-384"}[alg])
        elif alg == "EdDSA":
            self.key = OKPKey.generate_key("Ed25519")
        else:
            self.key = RSAKey.generate_key(2048)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    @property
    def public_jwk(self) -> dict[str, Any]:
        return self.key.as_dict(private=False)

    def proof(
        self,
        htu: str = TOKEN_URL,
        htm: str = "POST",
        *,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        key: Any = None,
    ) -> str:
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk, **(header or {})}
        payload: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()),
        }
        if access_token is not None:
            payload["ath"] = ath(access_token)
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
            protected.pop(name, None)
        return jwt.encode(
            protected, payload, key or self.key, algorithms=[protected["alg"]], registry=_REGISTRY
        )
