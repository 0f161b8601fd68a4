"""Dynamic client registration against the live server with plain HTTP (requests) for
RFC 7591 and RFC 7592, and Authlib's requests client (``OAuth2Session``) for the code
flow the registered client then runs: PKCE S256, ``client_secret_basic`` with the
secret the registration returned, a refresh. Deleting the registration ends the client:
its refresh token and its secret stop working."""

from __future__ import annotations

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from oauthflow import tokens
from oauthflow.models import AccessToken, Client
from oauthflow.registration.guard import new_initial_access_token

pytestmark = pytest.mark.live

REDIRECT_URI = "https://app.example.com/callback"


def metadata(issuer: str) -> dict:
    response = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10)
    assert response.status_code == 200
    return response.json()


def test_register_then_run_the_code_flow_with_authlib_then_delete(live_server, browser, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": "initial_access_token"}
    _, initial = new_initial_access_token(uses=1)
    meta = metadata(live_server.url)

    response = requests.post(
        meta["registration_endpoint"],
        json={
            "client_name": "Authlib app",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "read write",
        },
        headers={"Authorization": f"Bearer {initial}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    registered = response.json()
    stored = Client.objects.get(client_id=registered["client_id"])

    session = OAuth2Session(
        client_id=registered["client_id"],
        client_secret=registered["client_secret"],
        token_endpoint_auth_method="client_secret_basic",
        scope="read",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=10,
    )
    verifier = generate_token(48)
    url, _state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier
    )
    location = browser.consent(url)
    assert location.startswith(REDIRECT_URI + "?"), location
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["scope"] == "read"
    access = AccessToken.objects.get(digest=tokens.digest(token["access_token"]))
    assert access.client == stored and access.user == browser.user
    refreshed = session.refresh_token(meta["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]

    # RFC 7592: read, update (a new redirect URI), delete.
    uri = registered["registration_client_uri"]
    auth = {"Authorization": f"Bearer {registered['registration_access_token']}"}
    read = requests.get(uri, headers=auth, timeout=10).json()
    assert read["redirect_uris"] == [REDIRECT_URI] and read["scope"] == "read write"
    read["redirect_uris"] = [REDIRECT_URI, "https://app.example.com/other"]
    updated = requests.put(uri, json=read, headers=auth, timeout=10)
    assert updated.status_code == 200, updated.text
    assert updated.json()["redirect_uris"] == read["redirect_uris"]

    refused = requests.put(
        uri, json={**read, "redirect_uris": ["http://evil.example/"]}, headers=auth, timeout=10
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_redirect_uri"

    assert requests.delete(uri, headers=auth, timeout=10).status_code == 204
    with pytest.raises(OAuthError) as failed:
        session.refresh_token(meta["token_endpoint"])
    assert failed.value.error == "invalid_client"
    assert requests.get(uri, headers=auth, timeout=10).status_code == 401


def test_the_registration_endpoint_is_absent_when_off(live_server, transactional_db):
    meta = metadata(live_server.url)
    assert "registration_endpoint" not in meta
    response = requests.post(
        live_server.url + "/oauth/register/", json={"redirect_uris": [REDIRECT_URI]}, timeout=10
    )
    assert response.status_code == 404
