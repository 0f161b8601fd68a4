"""The device authorization grant (RFC 8628) with Authlib's requests client against the
live server: the device asks for codes at the endpoint the metadata advertises, polls
the token endpoint with ``fetch_token`` (Authlib raises ``authorization_pending`` and
``slow_down`` as ``OAuthError``), then uses the token on a protected API, refreshes it
with ``refresh_token()`` and revokes it. The user's part is played by the ``browser``
fixture on the verification pages.
"""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import parse_qs

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from oauthflow import tokens
from oauthflow.device.models import DeviceAuthorization
from oauthflow.models import AccessToken, RefreshToken
from tests import factories

pytestmark = pytest.mark.live

GRANTS = "urn:ietf:params:oauth:grant-type:device_code refresh_token"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")
#: The protected API of the test URLconf (tests/testapp): DRF, needs the "read" scope.
API = "/api/read/"
#: The same, but it also needs "profile", which these tokens lack.
API_PROFILE = "/api/read-profile/"


@pytest.fixture
def poll_every_second(settings):
    """The live server runs in this process, so the override reaches it."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_POLLING_INTERVAL": 1}


def new_session(client_app, method: str) -> OAuth2Session:
    """The device's session, authenticating at every endpoint with ``method``. Each
    request it sends is kept on ``session.sent`` (a requests response hook)."""
    secret = None if method == "none" else client_app.secret
    session = OAuth2Session(
        client_app.client_id,
        secret,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        default_timeout=10,
    )
    session.sent = []
    session.hooks["response"].append(lambda response, **_: session.sent.append(response.request))
    return session


def authenticated_as(request, client_app) -> str:
    """How ``request`` authenticated its client: the method's registered name."""
    body = parse_qs(request.body or "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        assert "client_secret" not in body
        assert (
            base64.b64decode(header[6:]).decode() == f"{client_app.client_id}:{client_app.secret}"
        )
        return "client_secret_basic"
    if "client_secret" in body:
        assert body["client_id"] == [client_app.client_id]
        assert body["client_secret"] == [client_app.secret]
        return "client_secret_post"
    assert body["client_id"] == [client_app.client_id]
    return "none"


def discover(session: OAuth2Session, issuer: str) -> dict:
    response = session.get(issuer + "/.well-known/oauth-authorization-server", withhold_token=True)
    assert response.status_code == 200, response.text
    metadata = response.json()
    assert metadata["device_authorization_endpoint"] == issuer + "/oauth/device-authorization/"
    assert DEVICE_CODE in metadata["grant_types_supported"]
    return metadata


def request_codes(session: OAuth2Session, metadata: dict, scope: str = "read"):
    """The device authorization request (RFC 8628 §3.1), authenticated as at the token
    endpoint: Authlib's client auth adds client_id (none), the Basic header or the secret
    in the body."""
    return session.post(
        metadata["device_authorization_endpoint"],
        data={"scope": scope},
        headers={"Accept": "application/json"},
        withhold_token=True,
        auth=session.client_auth(session.token_endpoint_auth_method),
    )


def poll(session: OAuth2Session, metadata: dict, device_code: str):
    return session.fetch_token(
        metadata["token_endpoint"], grant_type=DEVICE_CODE, device_code=device_code
    )


def poll_until_decided(
    session: OAuth2Session, metadata: dict, codes: dict, seen: list[str], interval: int
):
    """Poll as RFC 8628 §3.5 asks: wait the interval, longer by 5 seconds after each
    slow_down, until the user decides. The pending errors are appended to ``seen``."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            return poll(session, metadata, codes["device_code"])
        except OAuthError as error:
            if error.error == "slow_down":
                interval += 5
            elif error.error != "authorization_pending":
                raise
            seen.append(error.error)
    pytest.fail(f"still pending after 15 s: {seen}")


@pytest.mark.parametrize("method", ["none", "client_secret_basic", "client_secret_post"])
def test_authlib_device_flow(live_server, browser, poll_every_second, method):
    factory = factories.PublicClientFactory if method == "none" else factories.ClientFactory
    client_app = factory(grant_types=GRANTS, redirect_uris="")
    session = new_session(client_app, method)
    metadata = discover(session, live_server.url)

    started = request_codes(session, metadata)
    assert started.status_code == 200, started.text
    assert started.headers["Cache-Control"] == "no-store"
    codes = started.json()
    assert USER_CODE.fullmatch(codes["user_code"])
    assert codes["verification_uri"] == live_server.url + "/oauth/device/"
    assert codes["interval"] == 1

    # The device polls before the user has decided.
    with pytest.raises(OAuthError) as pending:
        poll(session, metadata, codes["device_code"])
    assert pending.value.error == "authorization_pending"

    assert "Done: go back to your device" in browser.enter_device_code(codes["user_code"])
    seen: list[str] = []
    token = poll_until_decided(session, metadata, codes, seen, codes["interval"])
    # The client waited the interval: the server never asked it to slow down.
    assert "slow_down" not in seen
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert session.token["access_token"] == token["access_token"]
    access = AccessToken.objects.get(digest=tokens.digest(token["access_token"]))
    assert access.user == browser.user and access.client == client_app
    row = DeviceAuthorization.objects.get(digest=tokens.digest(codes["device_code"]))
    assert access.family == row.family

    # The device code buys tokens once.
    with pytest.raises(OAuthError) as again:
        poll(session, metadata, codes["device_code"])
    assert again.value.error == "invalid_grant"

    # The protected API, with the token Authlib holds.
    api = session.get(live_server.url + API)
    assert api.status_code == 200, api.text
    assert api.json()["user"] == "alice"
    assert api.json()["client_id"] == client_app.client_id
    assert api.json()["scopes"] == ["read"]
    narrow = session.get(live_server.url + API_PROFILE)
    assert narrow.status_code == 403
    assert 'error="insufficient_scope"' in narrow.headers["WWW-Authenticate"]

    # A refresh: new tokens in the same family; the API takes the new access token.
    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["scope"] == "read"
    new_access = AccessToken.objects.get(digest=tokens.digest(refreshed["access_token"]))
    assert new_access.family == row.family and new_access.user == browser.user
    assert session.get(live_server.url + API).json()["user"] == "alice"

    # Revoking the refresh token ends the family: the API refuses the access token on
    # the next request, and the refresh token buys nothing more.
    revoked = session.revoke_token(
        metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200, revoked.text
    assert RefreshToken.objects.get(digest=tokens.digest(refreshed["refresh_token"])).is_revoked()
    api = session.get(live_server.url + API)
    assert api.status_code == 401
    assert 'error="invalid_token"' in api.headers["WWW-Authenticate"]
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"])
    assert refused.value.error == "invalid_grant"

    # Authlib authenticated the client as asked at each endpoint: the device
    # authorization request, every poll, the refreshes and the revocation.
    endpoints = {
        metadata["device_authorization_endpoint"],
        metadata["token_endpoint"],
        metadata["revocation_endpoint"],
    }
    client_requests = [r for r in session.sent if r.url in endpoints]
    assert {r.url for r in client_requests} == endpoints
    assert {authenticated_as(r, client_app) for r in client_requests} == {method}


def test_authlib_device_flow_denied(live_server, browser, poll_every_second):
    client_app = factories.PublicClientFactory(grant_types=GRANTS, redirect_uris="")
    session = new_session(client_app, "none")
    metadata = discover(session, live_server.url)
    codes = request_codes(session, metadata).json()
    with pytest.raises(OAuthError) as pending:
        poll(session, metadata, codes["device_code"])
    assert pending.value.error == "authorization_pending"

    assert "Request denied" in browser.enter_device_code(codes["user_code"], decision="deny")
    with pytest.raises(OAuthError) as denied:
        poll_until_decided(session, metadata, codes, [], codes["interval"])
    assert denied.value.error == "access_denied"
    assert session.token is None
    assert not AccessToken.objects.filter(client=client_app).exists()


def test_authlib_device_flow_slow_down(live_server, browser, poll_every_second):
    """Two polls back to back: the second is too early, and slow_down adds 5 seconds to
    the interval on the server; a client that adds them too is on time afterwards."""
    client_app = factories.ClientFactory(grant_types=GRANTS, redirect_uris="")
    session = new_session(client_app, "client_secret_basic")
    metadata = discover(session, live_server.url)
    codes = request_codes(session, metadata).json()
    row = DeviceAuthorization.objects.get(digest=tokens.digest(codes["device_code"]))

    with pytest.raises(OAuthError) as first:
        poll(session, metadata, codes["device_code"])
    assert first.value.error == "authorization_pending"
    with pytest.raises(OAuthError) as second:
        poll(session, metadata, codes["device_code"])
    assert second.value.error == "slow_down"
    row.refresh_from_db()
    assert row.poll_interval == codes["interval"] + 5

    browser.enter_device_code(codes["user_code"])
    seen: list[str] = []
    started = time.monotonic()
    token = poll_until_decided(session, metadata, codes, seen, codes["interval"] + 5)
    assert time.monotonic() - started >= 6
    assert seen == []  # the first poll after the longer wait is on time
    assert AccessToken.objects.get(digest=tokens.digest(token["access_token"])).client == client_app
