"""The device's and the user's parts of the device flow, through Django's test client."""

from __future__ import annotations

from tests.oauth_helpers import basic, post_form, token_request

DEVICE_AUTHORIZATION = "/oauth/device-authorization/"
VERIFY = "/oauth/device/"
CONFIRM = "/oauth/device/confirm/"
DONE = "/oauth/device/done/"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


def start(http, client, **data):
    """The device asks for codes (RFC 8628 §3.1), authenticating as at the token endpoint."""
    data = {"scope": "read", **data}
    data = {k: v for k, v in data.items() if v is not None}
    headers = {}
    if client.is_confidential:
        headers["HTTP_AUTHORIZATION"] = basic(client.client_id, client.secret)
    else:
        data.setdefault("client_id", client.client_id)
    return post_form(http, DEVICE_AUTHORIZATION, data, **headers)


def codes(http, client, **data) -> dict:
    response = start(http, client, **data)
    assert response.status_code == 200, response.content
    return response.json()


def poll(http, client, device_code: str, **data):
    return token_request(
        http, client, {"grant_type": GRANT_TYPE, "device_code": device_code, **data}
    )


def enter(http, user_code: str):
    """The signed-in user types ``user_code`` on the verification page."""
    return http.post(VERIFY, {"user_code": user_code})


def approve(http, user_code: str, decision: str = "allow"):
    """Enter the code, then decide; returns the decision's response."""
    entered = enter(http, user_code)
    assert entered.status_code == 302, entered.content
    assert entered["Location"] == CONFIRM
    return decide(http, decision)


def decide(http, decision: str, **extra):
    """Post the consent form as the page shows it (with its ``form`` field)."""
    form = (http.session.get("oauthflow_device") or {}).get("form", "")
    return http.post(CONFIRM, {"decision": decision, "form": form, **extra})


def make_ready(http, client, device_code: str) -> None:
    """Let the next poll through at once: the test does not wait out the interval."""
    from oauthflow import tokens
    from oauthflow.device.models import DeviceAuthorization

    DeviceAuthorization.objects.filter(digest=tokens.digest(device_code)).update(next_poll_at=None)
