"""The whole authorization code flow, driven by real OAuth client libraries over HTTP."""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from oauthflow.models import AccessToken, RefreshToken
from tests import factories
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live


def test_confidential_client_with_requests_oauthlib(live_server, browser, monkeypatch):
    # oauthlib refuses http outright; the live server is loopback-only plain http.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_app = factories.ClientFactory(redirect_uris="https://printer.example.com/callback")
    oauth = OAuth2Session(
        client_app.client_id,
        redirect_uri="https://printer.example.com/callback",
        scope=["read", "write"],
        pkce="S256",
    )
    url, state = oauth.authorization_url(live_server.url + "/oauth/authorize/")
    location = browser.consent(url)
    params = query_of(location)
    assert params["state"] == state
    assert params["iss"] == live_server.url

    token = oauth.fetch_token(
        live_server.url + "/oauth/token/",
        authorization_response=location,
        client_secret=client_app.secret,
    )
    assert token["token_type"] == "Bearer"
    assert sorted(token["scope"]) == ["read", "write"]
    assert AccessToken.objects.filter(user=browser.user, client=client_app).count() == 1
    api = oauth.get(live_server.url + "/api/read/")
    assert api.status_code == 200
    assert api.json()["user"] == "alice"
    assert api.json()["client_id"] == client_app.client_id

    refreshed = oauth.refresh_token(
        live_server.url + "/oauth/token/",
        refresh_token=token["refresh_token"],
        auth=HTTPBasicAuth(client_app.client_id, client_app.secret),
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert RefreshToken.objects.filter(client=client_app, rotated_at__isnull=False).count() == 1
    assert oauth.get(live_server.url + "/api/read/").json()["user"] == "alice"
    # Scope is enforced: this token lacks "profile".
    denied = oauth.get(live_server.url + "/api/read-profile/")
    assert denied.status_code == 403
    assert 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]


def test_public_client_with_authlib_and_pkce(live_server, browser):
    client_app = factories.PublicClientFactory(redirect_uris="http://127.0.0.1/callback")
    session = AuthlibSession(
        client_app.client_id,
        redirect_uri="http://127.0.0.1:40123/callback",  # a native app's ephemeral port
        scope="read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = generate_token(64)
    url, _state = session.create_authorization_url(
        live_server.url + "/oauth/authorize/", code_verifier=verifier
    )
    location = browser.consent(url)
    assert location.startswith("http://127.0.0.1:40123/callback?")
    assert query_of(location)["iss"] == live_server.url

    token = session.fetch_token(
        live_server.url + "/oauth/token/",
        authorization_response=location,
        code_verifier=verifier,
    )
    assert token["scope"] == "read"
    refreshed = session.refresh_token(
        live_server.url + "/oauth/token/", refresh_token=token["refresh_token"]
    )
    assert refreshed["access_token"] != token["access_token"]
    assert session.get(live_server.url + "/api/read/").status_code == 200

    # Replaying the first refresh token is reuse: refused, and the family is revoked.
    with pytest.raises(Exception, match="invalid_grant"):
        session.refresh_token(
            live_server.url + "/oauth/token/", refresh_token=token["refresh_token"]
        )
    assert not AccessToken.objects.filter(client=client_app, revoked_at__isnull=True).exists()
    # The API refuses the family's newest access token on the very next request.
    session.token = refreshed
    api = session.get(live_server.url + "/api/read/")
    assert api.status_code == 401
    assert 'error="invalid_token"' in api.headers["WWW-Authenticate"]


def test_deny_sends_access_denied_to_the_client(live_server, browser, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_app = factories.ClientFactory(redirect_uris="https://printer.example.com/callback")
    oauth = OAuth2Session(
        client_app.client_id,
        redirect_uri="https://printer.example.com/callback",
        scope=["read"],
        pkce="S256",
    )
    url, state = oauth.authorization_url(live_server.url + "/oauth/authorize/")
    params = query_of(browser.consent(url, decision="deny"))
    assert params == {
        "error": "access_denied",
        "error_description": params["error_description"],
        "state": state,
        "iss": live_server.url,
    }
