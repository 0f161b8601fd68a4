"""Polling the token endpoint with a device code (RFC 8628 §3.4, §3.5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oauthflow import tokens
from oauthflow.device.models import DeviceAuthorization
from oauthflow.models import AccessToken, RefreshToken, Resource
from oauthflow.store.revocation import revoke_grant
from oauthflow.subjects import subject_for
from tests import factories
from tests.oauth_helpers import token_request
from tests.oidc.helpers import verify

from .helpers import GRANT_TYPE, approve, codes, make_ready, poll

pytestmark = pytest.mark.django_db


def _row(device_code: str) -> DeviceAuthorization:
    return DeviceAuthorization.objects.get(digest=tokens.digest(device_code))


def _error(response) -> str:
    assert response.status_code == 400, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["error"]


def test_pending_then_tokens_once_the_user_allows(client, tv, signed_in):
    device = codes(client, tv)
    assert _error(poll(client, tv, device["device_code"])) == "authorization_pending"

    decided = approve(signed_in, device["user_code"])
    assert decided.status_code == 302
    make_ready(client, tv, device["device_code"])
    response = poll(client, tv, device["device_code"])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    assert body["access_token"].startswith("ofat_")
    assert body["refresh_token"].startswith("ofrt_")
    access = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert access.user.username == "alice" and access.client == tv
    # Everything issued joins the device authorization's family.
    assert access.family == _row(device["device_code"]).family
    assert RefreshToken.objects.get().family == access.family


def test_the_device_code_is_exchanged_once(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    assert poll(client, tv, device["device_code"]).status_code == 200

    again = poll(client, tv, device["device_code"])

    assert _error(again) == "invalid_grant"
    assert AccessToken.objects.count() == 1
    # Not taken as theft: the tokens already issued live on.
    assert AccessToken.objects.active().count() == 1


def test_the_refresh_token_works_as_for_the_code_grant(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    first = poll(client, tv, device["device_code"]).json()

    refreshed = token_request(
        client, tv, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["scope"] == "read"


def test_no_refresh_token_for_a_client_without_that_grant(client, signed_in):
    tv = factories.PublicClientFactory(grant_types=GRANT_TYPE, redirect_uris="")
    device = codes(client, tv)
    approve(signed_in, device["user_code"])

    body = poll(client, tv, device["device_code"]).json()

    assert "access_token" in body and "refresh_token" not in body


def test_a_confidential_client_polls_with_its_secret(client, console, signed_in):
    device = codes(client, console)
    approve(signed_in, device["user_code"])

    response = poll(client, console, device["device_code"])

    assert response.status_code == 200, response.content
    wrong = token_request(
        client,
        console,
        {"grant_type": GRANT_TYPE, "device_code": device["device_code"]},
        auth="none",
    )
    assert wrong.json()["error"] == "invalid_client"


def test_denied_is_access_denied(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"], decision="deny")

    assert _error(poll(client, tv, device["device_code"])) == "access_denied"
    make_ready(client, tv, device["device_code"])
    assert _error(poll(client, tv, device["device_code"])) == "access_denied"
    assert not AccessToken.objects.exists()


def test_expired_is_expired_token(client, tv, signed_in):
    device = codes(client, tv)
    DeviceAuthorization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _error(poll(client, tv, device["device_code"])) == "expired_token"


def test_approved_but_expired_before_the_poll_is_expired_token(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    DeviceAuthorization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _error(poll(client, tv, device["device_code"])) == "expired_token"
    assert not AccessToken.objects.exists()


def test_polling_too_fast_is_slow_down_and_the_interval_grows(client, tv):
    device = codes(client, tv)
    code = device["device_code"]
    assert _error(poll(client, tv, code)) == "authorization_pending"

    too_soon = poll(client, tv, code)

    assert _error(too_soon) == "slow_down"
    assert "10 seconds" in too_soon.json()["error_description"]
    assert _row(code).poll_interval == 10
    # Each further early poll adds 5 seconds more, for every later poll too.
    assert _error(poll(client, tv, code)) == "slow_down"
    assert _row(code).poll_interval == 15


def test_a_poll_after_the_interval_is_on_time(client, tv):
    device = codes(client, tv)
    code = device["device_code"]
    poll(client, tv, code)
    # The interval (5 s) has passed: a fifth of it early is tolerated for jitter.
    DeviceAuthorization.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))

    assert _error(poll(client, tv, code)) == "authorization_pending"
    assert _row(code).poll_interval == 5


def test_the_interval_is_checked_against_the_row_so_every_process_agrees(client, tv):
    device = codes(client, tv)
    code = device["device_code"]
    row = _row(code)
    # Another process polled a moment ago: all this one knows is the row.
    row.next_poll_at = timezone.now() + timedelta(seconds=4)
    row.save(update_fields=["next_poll_at"])

    assert _error(poll(client, tv, code)) == "slow_down"


def test_another_clients_device_code_is_invalid_grant(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    other = factories.PublicClientFactory(grant_types=GRANT_TYPE, redirect_uris="")

    assert _error(poll(client, other, device["device_code"])) == "invalid_grant"
    # The rightful client still gets its tokens.
    assert poll(client, tv, device["device_code"]).status_code == 200


@pytest.mark.parametrize("value", ["ofdc_unknown0000000000", "not a code", "x" * 200, "ofdc_"])
def test_an_unknown_device_code_is_invalid_grant(client, tv, value):
    assert _error(poll(client, tv, value)) in ("invalid_grant", "invalid_request")


def test_a_missing_device_code_is_invalid_request(client, tv):
    response = token_request(client, tv, {"grant_type": GRANT_TYPE})

    assert _error(response) == "invalid_request"


def test_a_client_without_the_grant_is_unauthorized_client(client, tv, signed_in):
    device = codes(client, tv)
    tv.grant_types = "refresh_token authorization_code"
    tv.redirect_uris = "http://127.0.0.1/cb"
    tv.save()

    assert _error(poll(client, tv, device["device_code"])) == "unauthorized_client"


def test_a_user_deactivated_after_approving_gets_no_tokens(client, tv, signed_in, user):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    user.is_active = False
    user.save()

    assert _error(poll(client, tv, device["device_code"])) == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_withdrawing_the_app_before_the_device_polls_stops_it(client, tv, signed_in, user):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])

    revoke_grant(tv, user, by="user")

    assert _error(poll(client, tv, device["device_code"])) == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_disabled_client_can_poll_no_more(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    tv.is_active = False
    tv.save()

    assert poll(client, tv, device["device_code"]).json()["error"] == "invalid_client"


def test_resources_named_at_the_start_bound_the_token(client, tv, signed_in):
    api = Resource.objects.create(identifier="https://api.example.com/", name="API")
    tv.resources.add(api)
    device = codes(client, tv, resource="https://api.example.com/")
    approve(signed_in, device["user_code"])

    foreign = poll(client, tv, device["device_code"], resource="https://else.example.com/")
    assert _error(foreign) == "invalid_target"
    make_ready(client, tv, device["device_code"])
    body = poll(client, tv, device["device_code"]).json()

    access = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert access.resource == "https://api.example.com/"


def test_the_openid_scope_gets_an_id_token_and_userinfo(client, tv, signed_in, user):
    device = codes(client, tv, scope="openid profile")
    approve(signed_in, device["user_code"])

    body = poll(client, tv, device["device_code"]).json()

    claims = verify(client, body["id_token"])
    assert claims["aud"] == tv.client_id
    assert claims["iss"] == "http://testserver"
    assert claims["sub"] == subject_for(user, tv)
    assert "nonce" not in claims
    # The device does not share the browser's session: no sid to end it with.
    assert "sid" not in claims
    userinfo = client.get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert userinfo.status_code == 200, userinfo.content
    assert userinfo.json()["sub"] == claims["sub"]
    refreshed = token_request(
        client, tv, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.content
    assert verify(client, refreshed.json()["id_token"])["sub"] == claims["sub"]


def test_no_id_token_without_the_openid_scope(client, tv, signed_in):
    device = codes(client, tv, scope="read")
    approve(signed_in, device["user_code"])

    assert "id_token" not in poll(client, tv, device["device_code"]).json()


def test_the_sign_in_record_outlives_the_refresh_tokens(client, tv, signed_in):
    from oauthflow.models import Authentication

    device = codes(client, tv, scope="openid")
    approve(signed_in, device["user_code"])
    row = _row(device["device_code"])
    body = poll(client, tv, device["device_code"]).json()

    record = Authentication.objects.get(family=row.family)
    refresh = RefreshToken.objects.get(digest=tokens.digest(body["refresh_token"]))
    # The record lives from the latest moment the exchange could happen.
    assert record.expires_at >= refresh.family_expires_at
