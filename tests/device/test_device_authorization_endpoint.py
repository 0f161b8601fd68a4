"""The device authorization endpoint (RFC 8628 §3.1, §3.2)."""

from __future__ import annotations

import re

import pytest

from oauthflow import tokens
from oauthflow.device import user_code
from oauthflow.device.models import DeviceAuthorization
from oauthflow.models import Resource
from tests import factories
from tests.oauth_helpers import basic, post_form

from .helpers import DEVICE_AUTHORIZATION, codes, start

pytestmark = pytest.mark.django_db


def test_a_public_client_gets_codes_and_where_to_send_the_user(client, tv):
    body = codes(client, tv)

    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert body["device_code"].startswith("ofdc_")
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == "http://testserver/oauth/device/"
    assert body["verification_uri_complete"] == (
        f"http://testserver/oauth/device/?user_code={body['user_code']}"
    )
    assert body["expires_in"] == 600
    assert body["interval"] == 5


def test_the_answer_is_never_cached(client, tv):
    response = start(client, tv)

    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "application/json"


def test_only_digests_are_stored(client, tv):
    body = codes(client, tv)

    row = DeviceAuthorization.objects.get()
    assert row.digest == tokens.digest(body["device_code"])
    code = user_code.normalise(body["user_code"])
    assert row.user_code_digest == user_code.digest(code)
    stored = " ".join(str(v) for v in DeviceAuthorization.objects.values().get().values())
    assert body["device_code"] not in stored
    assert code not in stored and body["user_code"] not in stored
    assert row.status == DeviceAuthorization.PENDING and row.user is None
    assert row.scope == "read"


def test_a_confidential_client_authenticates_with_basic_or_post(client, console):
    assert start(client, console).status_code == 200
    by_post = post_form(
        client,
        DEVICE_AUTHORIZATION,
        {"client_id": console.client_id, "client_secret": console.secret, "scope": "read"},
    )
    assert by_post.status_code == 200, by_post.content


def test_a_wrong_secret_is_invalid_client(client, console):
    response = post_form(
        client,
        DEVICE_AUTHORIZATION,
        {"scope": "read"},
        HTTP_AUTHORIZATION=basic(console.client_id, "ofcs_wrong"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not DeviceAuthorization.objects.exists()


def test_a_confidential_client_without_its_secret_is_invalid_client(client, console):
    response = post_form(client, DEVICE_AUTHORIZATION, {"client_id": console.client_id})

    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_client_is_invalid_client(client):
    response = post_form(client, DEVICE_AUTHORIZATION, {"client_id": "nobody"})

    # 400, as at the token endpoint: 401 is for a request that sent HTTP authentication.
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_a_client_without_the_grant_is_unauthorized_client(client):
    web_app = factories.PublicClientFactory()  # authorization_code and refresh_token only

    response = start(client, web_app)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert not DeviceAuthorization.objects.exists()


def test_a_scope_the_client_may_not_have_is_invalid_scope(client, tv):
    tv.allowed_scopes = "read"
    tv.save()

    response = start(client, tv, scope="read write")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not DeviceAuthorization.objects.exists()


def test_an_unknown_scope_is_invalid_scope(client, tv):
    assert start(client, tv, scope="admin").json()["error"] == "invalid_scope"


def test_no_scope_gets_the_clients_defaults(client, tv):
    tv.default_scopes = "write"
    tv.save()

    codes(client, tv, scope=None)

    assert DeviceAuthorization.objects.get().scope == "write"


def test_resources_are_checked_and_kept(client, tv):
    api = Resource.objects.create(identifier="https://api.example.com/", name="API")
    tv.resources.add(api)

    codes(client, tv, resource="https://api.example.com/")
    assert DeviceAuthorization.objects.get().resource == "https://api.example.com/"

    refused = start(client, tv, resource="https://other.example.com/")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_target"


def test_get_is_refused(client, tv):
    response = client.get(DEVICE_AUTHORIZATION, {"client_id": tv.client_id})

    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_a_body_that_is_not_a_form_is_invalid_request(client, tv):
    response = client.post(
        DEVICE_AUTHORIZATION, {"client_id": tv.client_id}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_plain_http_from_elsewhere_is_refused(client, tv, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    response = client.post(
        DEVICE_AUTHORIZATION,
        f"client_id={tv.client_id}",
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="provider.example.com",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not DeviceAuthorization.objects.exists()


def test_the_verification_uri_can_be_set(client, tv, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_VERIFICATION_URI": "https://ex.am/device"}

    body = codes(client, tv)

    assert body["verification_uri"] == "https://ex.am/device"
    assert (
        body["verification_uri_complete"] == f"https://ex.am/device?user_code={body['user_code']}"
    )


def test_lifetime_and_interval_follow_the_settings(client, tv, settings):
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "DEVICE_CODE_LIFETIME": 120,
        "DEVICE_POLLING_INTERVAL": 2,
    }

    body = codes(client, tv)

    assert (body["expires_in"], body["interval"]) == (120, 2)
    row = DeviceAuthorization.objects.get()
    assert row.poll_interval == 2
    assert 119 <= (row.expires_at - row.created_at).total_seconds() <= 120


def test_a_taken_user_code_is_drawn_again(client, tv, monkeypatch):
    first = codes(client, tv)
    taken = user_code.normalise(first["user_code"])
    draws = iter([taken, taken, "BCDFGHJK"])
    monkeypatch.setattr(user_code, "generate", lambda: next(draws))

    second = codes(client, tv)

    assert second["user_code"] == "BCDF-GHJK"
    assert DeviceAuthorization.objects.count() == 2


@pytest.mark.parametrize(
    "document", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_both_metadata_documents_advertise_the_endpoint_and_the_grant(client, document):
    body = client.get(document).json()

    assert body["device_authorization_endpoint"] == "http://testserver/oauth/device-authorization/"
    assert "urn:ietf:params:oauth:grant-type:device_code" in body["grant_types_supported"]
