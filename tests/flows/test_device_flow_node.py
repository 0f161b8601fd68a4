"""The device authorization grant (RFC 8628) through panva's openid-client (Node, v6 on
oauth4webapi), a strict client, against the live server.

tests/flows/node/device.mjs is the device: discovery, ``initiateDeviceAuthorization``,
then ``pollDeviceAuthorizationGrant``, which polls on its own (waiting the interval,
backing off 5 seconds on slow_down) until the user decides. It reports each step as a
JSON line; this test reads the user code from the first, plays the user's browser on
the verification pages, and checks what the library got against the database. The
library validates the device authorization response's shape, and the ID token's JWS
signature (against the JWKS), iss, aud, exp, iat and sub.

Needs Node.js (CI has it): the tests fail, not skip, without it. The npm packages,
pinned in tests/flows/node/package-lock.json, are installed on first use (the ``node``
fixture in conftest.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import tempfile
import time

import pytest

from oauthflow import tokens
from oauthflow.device.models import DeviceAuthorization
from oauthflow.models import AccessToken, RefreshToken
from oauthflow.subjects import public_subject
from tests import factories
from tests.flows.node_script import NodeScript

pytestmark = pytest.mark.live

GRANTS = "urn:ietf:params:oauth:grant-type:device_code refresh_token"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
#: How long one event may take to come (a discovery, a poll after its interval...).
EVENT_TIMEOUT = 15
#: A user code as the server shows it: 8 consonants, a dash in the middle.
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")


class Device(NodeScript):
    """The running device.mjs; ``device.next()`` is its next JSON line (an event)."""

    def __init__(self, node: str, stderr, **settings):
        super().__init__(node, "device.mjs", stderr, EVENT_TIMEOUT)
        self.events: list[dict] = []
        self.process.stdin.write(json.dumps(settings) + "\n")
        self.process.stdin.close()

    def next(self) -> dict:
        event = self.next_line(f"after {self.events}")
        event["at"] = time.monotonic()
        self.events.append(event)
        return event

    def expect(self, kind: str) -> dict:
        event = self.next()
        assert event["event"] == kind, event
        return event

    def polls(self) -> list[dict]:
        return [e for e in self.events if e["event"] == "poll"]

    def finish(self) -> int:
        """Wait for the script to end (it ends after its last event); its exit code."""
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail(f"device.mjs did not exit{self.log()}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def run_device(node):
    """``run_device(**settings)`` starts device.mjs with those settings (see the script)."""
    started: list[Device] = []
    with tempfile.TemporaryFile("w+") as stderr:

        def start(**settings) -> Device:
            device = Device(node, stderr, **settings)
            started.append(device)
            return device

        try:
            yield start
        finally:
            for device in started:
                device.close()


@pytest.fixture
def poll_every_second(settings):
    """The live server runs in this process, so the override reaches it."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_POLLING_INTERVAL": 1}


def _row(device_code: str) -> DeviceAuthorization:
    return DeviceAuthorization.objects.get(digest=tokens.digest(device_code))


# The registrations exercised, with how the library authenticates them and which
# metadata document it discovers (both advertise the device authorization endpoint).
CLIENTS = {
    "public-none-openid-configuration": dict(
        factory=factories.PublicClientFactory, auth="none", algorithm="oidc"
    ),
    "confidential-basic-oauth-authorization-server": dict(
        factory=factories.ClientFactory, auth="basic", algorithm="oauth2"
    ),
    "confidential-post-openid-configuration": dict(
        factory=factories.ClientFactory, auth="post", algorithm="oidc"
    ),
}


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_openid_client_device_flow(live_server, browser, run_device, poll_every_second, kind):
    spec = CLIENTS[kind]
    client_app = spec["factory"](name="Living-room TV", grant_types=GRANTS, redirect_uris="")
    issuer = live_server.url
    device = run_device(
        issuer=issuer,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        auth=spec["auth"],
        algorithm=spec["algorithm"],
        scope="openid read",
    )

    # The device authorization response, as the library validated and returned it.
    started = device.expect("device")
    assert started["device_authorization_endpoint"] == issuer + "/oauth/device-authorization/"
    response = started["response"]
    assert USER_CODE.fullmatch(response["user_code"]), response
    assert response["verification_uri"] == issuer + "/oauth/device/"
    assert response["verification_uri_complete"] == (
        f"{issuer}/oauth/device/?user_code={response['user_code']}"
    )
    assert response["interval"] == 1
    assert 0 < response["expires_in"] <= 1800
    # The client authenticated as registered: Basic, the secret in the body, or only its id.
    request = started["request"]
    assert request["client_id"] == client_app.client_id
    if spec["auth"] == "basic":
        assert request["authorization_scheme"] == "Basic"
        assert request["parameters"] == ["client_id", "scope"]
    elif spec["auth"] == "post":
        assert request["authorization_scheme"] is None
        assert request["parameters"] == ["client_id", "client_secret", "scope"]
    else:
        assert request["authorization_scheme"] is None
        assert request["parameters"] == ["client_id", "scope"]
    row = _row(response["device_code"])
    assert row.client == client_app
    assert row.status == DeviceAuthorization.PENDING
    assert sorted(row.scope.split()) == ["openid", "read"]

    # The library polls on its own; the user has not decided yet.
    pending = device.expect("poll")
    assert (pending["status"], pending["error"]) == (400, "authorization_pending"), pending
    assert pending["grant_type"] == DEVICE_CODE

    done = browser.enter_device_code(response["user_code"])
    assert "Done: go back to your device" in done

    # The poll after the approval gets the tokens; the library resolves with them.
    while (event := device.next())["event"] == "poll" and event["status"] != 200:
        assert event["error"] == "authorization_pending", event
    if event["event"] == "poll":
        event = device.next()
    assert event["event"] == "tokens", event
    assert device.finish() == 0
    polls = device.polls()
    assert [p["status"] for p in polls[-1:]] == [200]
    # Every poll waited the interval: none was told to slow down.
    assert [p["error"] for p in polls[:-1]] == ["authorization_pending"] * (len(polls) - 1)
    # The library authenticated each poll as it did the device authorization request.
    assert all(
        p["request"]["authorization_scheme"] == request["authorization_scheme"] for p in polls
    )

    assert event["token_type"] == "bearer"  # the library lower-cases it
    assert sorted(event["scope"].split()) == ["openid", "read"]
    assert event["refresh_token"]
    assert 0 < event["expires_in"] <= 3600
    claims = event["claims"]
    assert claims["iss"] == issuer
    assert claims["aud"] == client_app.client_id
    assert claims["sub"] == public_subject(browser.user)
    assert claims["exp"] > claims["iat"]
    # When alice signed in (moments ago, in the browser); no nonce or sid in this flow.
    assert claims["iat"] - 60 <= claims["auth_time"] <= claims["iat"]
    assert "nonce" not in claims and "sid" not in claims
    # The ID token is bound to the access token the library got with it (Core §3.1.3.6).
    digest = hashlib.sha256(event["access_token"].encode("ascii")).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()

    # Server-side: the tokens the library holds are alice's, for this client and scope,
    # and they belong to the device authorization, now exchanged.
    access = AccessToken.objects.get(digest=tokens.digest(event["access_token"]))
    assert access.user == browser.user
    assert access.client == client_app
    assert sorted(access.scope.split()) == ["openid", "read"]
    refresh = RefreshToken.objects.get(digest=tokens.digest(event["refresh_token"]))
    assert refresh.user == browser.user and refresh.family == access.family
    row = _row(response["device_code"])
    assert row.status == DeviceAuthorization.APPROVED
    assert row.user == browser.user
    assert row.exchanged_at is not None
    assert access.family == row.family


def test_openid_client_reports_access_denied(live_server, browser, run_device, poll_every_second):
    client_app = factories.PublicClientFactory(grant_types=GRANTS, redirect_uris="")
    device = run_device(
        issuer=live_server.url, client_id=client_app.client_id, auth="none", scope="openid read"
    )
    response = device.expect("device")["response"]
    pending = device.expect("poll")
    assert pending["error"] == "authorization_pending", pending

    done = browser.enter_device_code(response["user_code"], decision="deny")
    assert "Request denied" in done

    while (event := device.next())["event"] == "poll" and event["error"] != "access_denied":
        assert event["error"] == "authorization_pending", event
    assert event["event"] == "poll", event
    # The library stops polling and rejects with the server's error.
    failed = device.expect("error")
    assert failed["stage"] == "poll"
    assert failed["error"]["name"] == "ResponseBodyError", failed
    assert failed["error"]["error"] == "access_denied", failed
    assert failed["error"]["status"] == 400, failed
    assert device.finish() == 0
    assert not AccessToken.objects.filter(client=client_app).exists()
    row = _row(response["device_code"])
    assert row.status == DeviceAuthorization.DENIED
    assert row.user == browser.user


def test_openid_client_backs_off_on_slow_down(live_server, browser, run_device, settings):
    """A device that polls faster than it was told (every 0.6 s, told 2 s). The server
    allows a poll a fifth of the interval early, no more: the second poll gets slow_down,
    and the request's interval grows by 5 seconds on the server. The library adds the
    same 5 seconds to its own, so its next poll is on time and gets the tokens."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_POLLING_INTERVAL": 2}
    client_app = factories.PublicClientFactory(grant_types=GRANTS, redirect_uris="")
    device = run_device(
        issuer=live_server.url,
        client_id=client_app.client_id,
        auth="none",
        scope="read",
        poll_interval=0.6,
    )
    response = device.expect("device")["response"]
    assert response["interval"] == 2
    # The first poll is on time (none before it); one of the next comes too early.
    first = device.expect("poll")
    assert first["error"] == "authorization_pending", first
    while (event := device.next())["error"] != "slow_down":
        assert event["error"] == "authorization_pending", event
    slowed = event
    assert slowed["status"] == 400
    assert _row(response["device_code"]).poll_interval == 2 + 5

    browser.enter_device_code(response["user_code"])
    after = device.expect("poll")
    # The library waited its interval plus 5 seconds (0.6 + 5) before polling again,
    # which the server's grown interval (7 s, less a fifth) lets through.
    assert after["at"] - slowed["at"] >= 5.0
    assert after["status"] == 200, after
    event = device.expect("tokens")
    assert event["scope"] == "read"
    assert event["claims"] is None  # no openid scope, no ID token
    assert device.finish() == 0
    access = AccessToken.objects.get(digest=tokens.digest(event["access_token"]))
    assert access.user == browser.user and access.client == client_app
    assert [p["error"] for p in device.polls()].count("slow_down") == 1


def test_openid_client_device_authorization_refused_to_a_client_without_the_grant(
    live_server, transactional_db, run_device
):
    client_app = factories.ClientFactory(grant_types="authorization_code refresh_token")
    device = run_device(
        issuer=live_server.url,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        auth="basic",
        scope="read",
    )
    failed = device.expect("error")
    assert failed["stage"] == "initiate", failed
    assert failed["error"]["name"] == "ResponseBodyError", failed
    assert failed["error"]["error"] == "unauthorized_client", failed
    assert failed["error"]["status"] == 400, failed
    assert device.finish() == 0
    assert not DeviceAuthorization.objects.exists()


def test_openid_client_device_authorization_with_a_wrong_secret(
    live_server, transactional_db, run_device
):
    client_app = factories.ClientFactory(grant_types=GRANTS, redirect_uris="")
    device = run_device(
        issuer=live_server.url,
        client_id=client_app.client_id,
        client_secret="not-the-secret",
        auth="basic",
        scope="read",
    )
    failed = device.expect("error")
    assert failed["stage"] == "initiate", failed
    # A 401 whose Basic challenge carries the error (RFC 6749 §5.2); the library reports
    # the challenge rather than the body.
    assert failed["error"]["name"] == "WWWAuthenticateChallengeError", failed
    assert failed["error"]["status"] == 401, failed
    [challenge] = failed["error"]["challenges"]
    assert challenge["scheme"] == "basic", failed
    assert challenge["parameters"]["error"] == "invalid_client", failed
    assert device.finish() == 0
    assert not DeviceAuthorization.objects.exists()
