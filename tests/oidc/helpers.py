"""The relying party's side of OpenID Connect flows through Django's test client."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

OPENID = "openid profile email"


def jwks(http) -> KeySet:
    return KeySet.import_key_set(http.get("/oauth/jwks/").json())


def verify(http, id_token: str, algorithms=("RS256", "ES256")) -> dict:
    """The claims of ``id_token`` once its signature checks out against the JWKS."""
    return dict(jwt.decode(id_token, jwks(http), algorithms=list(algorithms)).claims)


def sign_in_with_openid(http, client, scope: str = OPENID, **params) -> dict:
    """Authorize (consenting), redeem the code; the token response."""
    verifier = new_verifier()
    code = get_code(http, client, verifier=verifier, scope=scope, **params)
    response = exchange(http, client, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(http, client, refresh_token: str, **extra):
    return token_request(
        http, client, {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    )
