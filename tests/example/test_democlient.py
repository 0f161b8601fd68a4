"""The demo client is sample code people copy: its security checks are tested here.

The client talks to the provider over HTTP (a live server); the user's browser is
Django's test client for the client's pages and a requests session at the provider.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from democlient.provider import mask, masked_token_response
from democlient.session import COOKIE_NAME
from django.contrib.sessions.models import Session

from oauthflow.models import AccessToken, AuthorizationCode
from tests import factories
from tests.flows.conftest import Browser
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live


@pytest.fixture
def demo(settings, live_server, tmp_path):
    settings.ROOT_URLCONF = "tests.example.urls"
    settings.DEMO_CLIENT = {
        "PROVIDER_URL": live_server.url,
        "REDIRECT_URI": live_server.url + "/demo/callback",
        "CREDENTIALS_FILE": tmp_path / "demo-client.json",
    }
    client_app = factories.ClientFactory(
        name="Demo Client", redirect_uris=live_server.url + "/demo/callback"
    )
    (tmp_path / "demo-client.json").write_text(
        json.dumps({"client_id": client_app.client_id, "client_secret": client_app.secret})
    )
    return client_app


@pytest.fixture
def user_agent(live_server):
    """The user, signed in at the provider, ready to consent."""
    user = factories.UserFactory(username="alice")
    agent = Browser(live_server.url)
    agent.sign_in(user.username)
    agent.user = user
    return agent


def host_of(live_server) -> str:
    return urlsplit(live_server.url).netloc


def connect(client, live_server) -> str:
    response = client.post("/demo/connect", HTTP_HOST=host_of(live_server))
    assert response.status_code == 302
    return response["Location"]


def events(client, live_server) -> list[dict]:
    page = client.get("/demo/", HTTP_HOST=host_of(live_server))
    assert page.status_code == 200
    return list(reversed(page.context["events"]))


def stored_session(client) -> dict:
    key = client.cookies[COOKIE_NAME].value
    return Session.objects.get(session_key=key).get_decoded()


def test_connect_sends_state_and_pkce_and_keeps_the_secrets_server_side(client, live_server, demo):
    location = connect(client, live_server)
    params = query_of(location)
    assert location.startswith(live_server.url + "/oauth/authorize/?")
    assert params["client_id"] == demo.client_id
    assert params["redirect_uri"] == live_server.url + "/demo/callback"
    assert params["code_challenge_method"] == "S256"

    pending = stored_session(client)["pending"]
    assert pending["state"] == params["state"]
    assert create_s256_code_challenge(pending["verifier"]) == params["code_challenge"]
    assert pending["verifier"] not in location
    # The browser holds only the client's session key, scoped to the client's pages.
    cookie = client.cookies[COOKIE_NAME]
    assert cookie["path"] == "/demo/" and cookie["httponly"]
    assert pending["verifier"] not in cookie.value


def test_callback_with_a_wrong_state_is_ignored(client, live_server, demo, user_agent):
    location = user_agent.consent(connect(client, live_server))
    params = query_of(location)
    forged = {**params, "state": "not-the-state-we-sent"}
    client.get("/demo/callback", forged, HTTP_HOST=host_of(live_server))

    assert "is not the one we sent" in events(client, live_server)[-1]["explain"]
    assert not AccessToken.objects.exists()
    # The pending authorization was used up: the genuine response, replayed, is refused too.
    client.get("/demo/callback", params, HTTP_HOST=host_of(live_server))
    assert "No connection was in progress" in events(client, live_server)[-1]["explain"]
    assert AuthorizationCode.objects.get().redeemed_at is None


def test_callback_from_another_issuer_is_ignored(client, live_server, demo, user_agent):
    params = query_of(user_agent.consent(connect(client, live_server)))
    mixed_up = {**params, "iss": "https://attacker.example"}
    client.get("/demo/callback", mixed_up, HTTP_HOST=host_of(live_server))

    assert "is not the provider we sent you to" in events(client, live_server)[-1]["explain"]
    assert AuthorizationCode.objects.get().redeemed_at is None


def test_callback_without_iss_is_ignored(client, live_server, demo, user_agent):
    params = query_of(user_agent.consent(connect(client, live_server)))
    del params["iss"]
    client.get("/demo/callback", params, HTTP_HOST=host_of(live_server))
    assert "(missing)" in events(client, live_server)[-1]["explain"]


def test_good_callback_redeems_the_code_and_shows_tokens_masked(
    client, live_server, demo, user_agent
):
    params = query_of(user_agent.consent(connect(client, live_server)))
    client.get("/demo/callback", params, HTTP_HOST=host_of(live_server))

    assert AccessToken.objects.filter(user=user_agent.user, client=demo).count() == 1
    token = stored_session(client)["token"]
    page = client.get("/demo/", HTTP_HOST=host_of(live_server)).content.decode()
    assert token["access_token"] not in page and token["refresh_token"] not in page
    assert mask(token["access_token"]) in page
    assert "pending" not in stored_session(client)


def test_deny_is_shown_plainly(client, live_server, demo, user_agent):
    params = query_of(user_agent.consent(connect(client, live_server), decision="deny"))
    client.get("/demo/callback", params, HTTP_HOST=host_of(live_server))

    last = events(client, live_server)[-1]
    assert not last["ok"]
    assert "You chose Deny" in last["explain"]
    assert "error=access_denied" in last["detail"]


def test_metadata_naming_another_issuer_is_refused(client, live_server, demo, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://impostor.example"}
    location = client.post("/demo/connect", HTTP_HOST=host_of(live_server))["Location"]

    assert location.startswith("/demo/")  # back to the demo page, not to the provider
    assert "refusing to use it" in events(client, live_server)[-1]["explain"]


def test_demo_page_moves_to_the_registered_host(client, live_server, demo):
    port = urlsplit(live_server.url).port
    response = client.get("/demo/", HTTP_HOST=f"127.0.0.2:{port}")
    assert response.status_code == 302
    assert response["Location"] == live_server.url + "/demo/"


def test_demo_page_says_how_to_register_when_credentials_are_missing(
    client, live_server, demo, settings
):
    settings.DEMO_CLIENT = {**settings.DEMO_CLIENT, "CREDENTIALS_FILE": "/nonexistent.json"}
    page = client.get("/demo/", HTTP_HOST=host_of(live_server)).content.decode()
    assert "run `make demo`" in page
    assert "disabled" in page


def test_mask_shows_eight_characters():
    assert mask("ofat_abcdefghijklmnop") == "ofat_abc…"
    assert mask("") == ""
    assert masked_token_response(
        {
            "access_token": "ofat_secretsecret",
            "refresh_token": "ofrt_secretsecret",
            "token_type": "Bearer",
            "expires_at": 1,
        }
    ) == {"access_token": "ofat_sec…", "refresh_token": "ofrt_sec…", "token_type": "Bearer"}
