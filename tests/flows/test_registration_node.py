"""Dynamic client registration (RFC 7591) through panva's openid-client (Node, v6 on
oauth4webapi) against the live server, then a full code flow as the registered client,
then RFC 7592 read, update and delete over plain HTTP (requests).

tests/flows/node/registration.mjs is the client. Its ``dynamicClientRegistration``
discovers the server, finds ``registration_endpoint`` in the metadata, POSTs the client
metadata as JSON with the initial access token as a Bearer token, and checks the 201
answer (``client_id`` a string; with a ``client_secret``, ``client_secret_expires_at``
a number). The Configuration it returns is the registered client: it authenticates at
the token endpoint with ``client_secret_post`` when it got a secret, ``none`` otherwise
(the library's default), which is why the confidential client here registers that
method. The code flow (PKCE, state, iss, the ID token's signature) is the library's own.

Needs Node.js (CI has it): the tests fail, not skip, without it.
"""

from __future__ import annotations

import pytest
import requests

from oauthflow import tokens
from oauthflow.models import AccessToken, Client
from oauthflow.registration.guard import new_initial_access_token
from oauthflow.registration.models import ClientRegistration, InitialAccessToken
from tests.flows.node_script import running
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

STEP_TIMEOUT = 15

REGISTRATIONS = {
    "confidential-post": {
        "client_name": "Node web app",
        "redirect_uris": ["https://rp.example.com/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
        "scope": "openid read",
        "id_token_signed_response_alg": "RS256",
    },
    "public-native": {
        "client_name": "Node native app",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
        "scope": "openid read",
    },
}


@pytest.fixture
def rp(node):
    with running(node, "registration.mjs", STEP_TIMEOUT) as started:
        yield started


@pytest.fixture
def registration_on(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": "initial_access_token"}


@pytest.mark.parametrize("kind", list(REGISTRATIONS))
def test_openid_client_registers_then_signs_a_user_in_then_manages_its_registration(
    live_server, browser, rp, registration_on, kind
):
    issuer = live_server.url
    document = REGISTRATIONS[kind]
    row, initial = new_initial_access_token(uses=1, note="node")

    registered = rp.ok("register", issuer=issuer, initial_access_token=initial, metadata=document)

    # Discovery advertised the endpoint, and the registration went there: JSON, Bearer.
    assert registered["server"]["registration_endpoint"] == issuer + "/oauth/register/"
    discovery, registration = rp.exchanges()
    assert discovery["url"] == issuer + "/.well-known/openid-configuration"
    assert (registration["method"], registration["url"]) == ("POST", issuer + "/oauth/register/")
    assert registration["authorization_scheme"] == "Bearer"
    assert registration["request_content_type"] == "application/json"
    assert registration["request"] == document
    assert registration["status"] == 201 and registration["content_type"] == "application/json"

    # What the library now holds is what the server stored.
    client_md = registered["client"]
    stored = Client.objects.get(client_id=client_md["client_id"])
    assert stored.name == document["client_name"]
    assert stored.redirect_uri_list == document["redirect_uris"]
    assert stored.token_endpoint_auth_method == document["token_endpoint_auth_method"]
    assert client_md["registration_client_uri"] == (f"{issuer}/oauth/register/{stored.client_id}/")
    reg_token = client_md["registration_access_token"]
    assert ClientRegistration.objects.get(client=stored).access_token_digest == (
        tokens.digest(reg_token)
    )
    if kind == "confidential-post":
        assert stored.client_type == Client.CONFIDENTIAL
        assert stored.check_client_secret(client_md["client_secret"])
        assert client_md["client_secret_expires_at"] == 0
    else:
        assert stored.client_type == Client.PUBLIC and "client_secret" not in client_md
    assert InitialAccessToken.objects.get(pk=row.pk).uses_left == 0

    # A full code flow with PKCE as the registered client.
    redirect_uri = document["redirect_uris"][0]
    started = rp.ok("start", flow="main", redirect_uri=redirect_uri, scope="openid read")
    location = browser.consent(started["url"])
    assert location.startswith(redirect_uri + "?"), location
    assert "code" in query_of(location)
    redeemed = rp.ok("callback", flow="main", url=location)
    [token_exchange] = [e for e in rp.exchanges() if e["url"].endswith("/oauth/token/")]
    assert token_exchange["status"] == 200
    sent = dict(token_exchange["request"])
    assert "code_verifier" in sent
    assert ("client_secret" in sent) == (kind == "confidential-post")
    assert redeemed["claims"]["aud"] == stored.client_id
    access = AccessToken.objects.get(digest=tokens.digest(redeemed["tokens"]["access_token"]))
    assert access.client == stored and access.user == browser.user

    # RFC 7592 over plain HTTP, with the registration access token the library got.
    uri = client_md["registration_client_uri"]
    auth = {"Authorization": f"Bearer {reg_token}"}
    read = requests.get(uri, headers=auth, timeout=10)
    assert read.status_code == 200 and read.headers["Cache-Control"] == "no-store"
    assert read.json()["client_id"] == stored.client_id
    assert "client_secret" not in read.json()

    update = {**read.json(), "client_name": "Renamed"}
    updated = requests.put(uri, json=update, headers=auth, timeout=10)
    assert updated.status_code == 200, updated.text
    assert updated.json()["client_name"] == "Renamed"
    stored.refresh_from_db()
    assert stored.name == "Renamed"

    assert (
        requests.get(uri, headers={"Authorization": "Bearer wrong-token"}, timeout=10).status_code
        == 401
    )

    deleted = requests.delete(uri, headers=auth, timeout=10)
    assert deleted.status_code == 204
    assert not Client.objects.filter(pk=stored.pk).exists()
    assert not AccessToken.objects.filter(pk=access.pk).exists()
    assert requests.get(uri, headers=auth, timeout=10).status_code == 401


def test_openid_client_without_a_valid_initial_access_token(
    live_server, transactional_db, rp, registration_on
):
    error = rp.refused(
        "register",
        issuer=live_server.url,
        initial_access_token="ofit_" + "A" * 43,
        metadata=REGISTRATIONS["public-native"],
    )
    assert error["name"] == "WWWAuthenticateChallengeError", error
    assert error["status"] == 401
    [challenge] = error["challenges"]
    assert challenge["scheme"] == "bearer"
    assert challenge["parameters"]["error"] == "invalid_token"
    assert not Client.objects.exists()


def test_openid_client_gets_metadata_errors(live_server, transactional_db, rp, registration_on):
    _, initial = new_initial_access_token()
    error = rp.refused(
        "register",
        issuer=live_server.url,
        initial_access_token=initial,
        metadata={**REGISTRATIONS["public-native"], "redirect_uris": ["http://evil.example/cb"]},
    )
    assert error["name"] == "ResponseBodyError", error
    assert error["status"] == 400
    assert error["error"] == "invalid_redirect_uri"
    assert not Client.objects.exists()


def test_openid_client_registers_in_the_open_mode(live_server, transactional_db, rp, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": "open"}
    registered = rp.ok("register", issuer=live_server.url, metadata=REGISTRATIONS["public-native"])
    [_, registration] = rp.exchanges()
    assert registration["authorization_scheme"] is None
    assert Client.objects.filter(client_id=registered["client"]["client_id"]).exists()


def test_openid_client_finds_no_registration_endpoint_when_off(live_server, transactional_db, rp):
    error = rp.refused("register", issuer=live_server.url, metadata=REGISTRATIONS["public-native"])
    # The library looks the endpoint up in the metadata and finds none.
    assert "registration_endpoint" in (error.get("reason") or error.get("message") or ""), error
    assert not Client.objects.exists()
