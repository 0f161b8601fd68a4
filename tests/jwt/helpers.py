"""Resources and JWT access tokens in tests."""

from __future__ import annotations

from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

API = "https://api.example.com/"
OTHER_API = "https://other.example.com/"


def client_credentials(http, client, **data):
    return token_request(http, client, {"grant_type": "client_credentials", **data})


def user_token(http, client, *, scope="read", resource=API, **extra):
    verifier = new_verifier()
    params = {"resource": resource} if resource else {}
    code = get_code(http, client, verifier=verifier, scope=scope, **params)
    return exchange(http, client, code, verifier, **extra)
