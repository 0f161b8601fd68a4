"""Helpers that play the client's part of the flow through Django's test client."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

AUTHORIZE = "/oauth/authorize/"
TOKEN = "/oauth/token/"


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def authorize_params(client, *, verifier: str | None = None, **overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri_list[0],
        "scope": "read",
        "state": "xyz-state",
    }
    if verifier is not None:
        params["code_challenge"] = create_s256_code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def authorize_url(client, **kwargs) -> str:
    return AUTHORIZE + "?" + urlencode(authorize_params(client, **kwargs))


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(http, client, *, verifier: str, **overrides) -> str:
    """Sign-in is the caller's job; this allows consent and returns the code."""
    url = authorize_url(client, verifier=verifier, **overrides)
    response = http.get(url)
    if response.status_code == 200:
        response = http.post(url, {"decision": "allow"})
    assert response.status_code == 302, response.content
    params = query_of(response["Location"])
    assert "code" in params, params
    return params["code"]


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_request(http, client, data: dict, *, auth: str = "basic", **extra_headers):
    """POST to the token endpoint authenticating ``client`` the way ``auth`` says
    (``extra_headers`` as Django's test client takes them: ``HTTP_DPOP=...``)."""
    data = dict(data)
    headers = dict(extra_headers)
    if auth == "basic" and client.is_confidential:
        headers["HTTP_AUTHORIZATION"] = basic(client.client_id, client.secret)
    elif auth == "post" and client.is_confidential:
        data.update(client_id=client.client_id, client_secret=client.secret)
    elif auth == "none" or not client.is_confidential:
        data.setdefault("client_id", client.client_id)
    return post_form(http, TOKEN, data, **headers)


def post_form(http, url: str, data: dict, **headers):
    """POST ``data`` form-encoded, as OAuth endpoints take it (RFC 6749 §4.1.3)."""
    return http.post(
        url, urlencode(data), content_type="application/x-www-form-urlencoded", **headers
    )


def exchange(http, client, code: str, verifier: str, **kwargs):
    return token_request(
        http,
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri_list[0],
            "code_verifier": verifier,
        },
        **kwargs,
    )
