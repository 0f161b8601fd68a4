"""The introspection endpoint (RFC 7662)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauthflow.models import Subject
from tests import factories
from tests.oauth_helpers import basic, exchange, get_code, new_verifier, token_request

INTROSPECT = "/oauth/introspect/"


@pytest.fixture
def resource_server(db):
    return factories.ClientFactory(
        name="API", may_introspect=True, redirect_uris="", grant_types=""
    )


@pytest.fixture
def issued(client, user, client_app):
    client.force_login(user)
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier, scope="read profile")
    return exchange(client, client_app, code, verifier).json()


def introspect(http, caller, token: str, **extra):
    return http.post(
        INTROSPECT,
        urlencode({"token": token, **extra}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(caller.client_id, caller.secret),
    )


def test_live_access_token(client, user, client_app, resource_server, issued):
    response = introspect(client, resource_server, issued["access_token"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["scope"] == "read profile"
    assert body["client_id"] == client_app.client_id
    assert body["username"] == "alice"
    # The user's stored random subject, never the primary key.
    assert body["sub"] == Subject.objects.get(user=user).public != str(user.pk)
    assert body["token_type"] == "Bearer"
    now = timezone.now().timestamp()
    assert now - 10 < body["iat"] <= now
    assert body["exp"] - body["iat"] == 3600


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", None])
def test_live_refresh_token(client, resource_server, issued, hint):
    extra = {"token_type_hint": hint} if hint else {}
    body = introspect(client, resource_server, issued["refresh_token"], **extra).json()
    assert body["active"] is True
    assert "token_type" not in body


def test_client_credentials_token_names_the_client_as_subject(client, resource_server, db):
    machine = factories.ClientFactory(
        grant_types="client_credentials", redirect_uris="", default_scopes="read"
    )
    value = token_request(client, machine, {"grant_type": "client_credentials"}).json()
    body = introspect(client, resource_server, value["access_token"]).json()
    assert body["active"] is True
    assert body["sub"] == machine.client_id
    assert "username" not in body


def test_revoked_token_is_inactive(client, client_app, resource_server, issued):
    client.post(
        "/oauth/revoke/",
        urlencode({"token": issued["access_token"]}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    assert introspect(client, resource_server, issued["access_token"]).json() == {"active": False}


def test_expired_token_is_inactive(client, resource_server, issued):
    later = timezone.now() + timedelta(hours=1, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert introspect(client, resource_server, issued["access_token"]).json() == {
            "active": False
        }


def test_rotated_refresh_token_is_inactive(client, client_app, resource_server, issued):
    token_request(
        client,
        client_app,
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
    )
    assert introspect(client, resource_server, issued["refresh_token"]).json() == {"active": False}


@pytest.mark.parametrize("value", ["ofat_unknown", "garbage", "x" * 300])
def test_unknown_token_is_inactive(client, resource_server, value):
    assert introspect(client, resource_server, value).json() == {"active": False}


def test_token_of_inactive_user_is_inactive(client, user, resource_server, issued):
    user.is_active = False
    user.save()
    assert introspect(client, resource_server, issued["access_token"]).json() == {"active": False}


def test_client_not_flagged_may_not_introspect(client, client_app, issued):
    response = introspect(client, client_app, issued["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


def test_bad_credentials_are_401(client, resource_server, issued):
    resource_server.secret = "ofcs_wrong"
    response = introspect(client, resource_server, issued["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_public_client_may_not_introspect(client, public_client, issued):
    public_client.may_introspect = True
    public_client.save()
    response = client.post(
        INTROSPECT,
        urlencode({"token": issued["access_token"], "client_id": public_client.client_id}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 401


def test_missing_token_is_invalid_request(client, resource_server):
    response = client.post(
        INTROSPECT,
        "",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(resource_server.client_id, resource_server.secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_introspection_costs_three_queries(client, resource_server, issued):
    """The caller, the token (user and client joined), the user's subject identifier
    (made at the first introspection, read after)."""
    introspect(client, resource_server, issued["access_token"])
    with CaptureQueriesContext(connection) as context:
        assert introspect(client, resource_server, issued["access_token"]).json()["active"]
    assert len(context.captured_queries) == 3


def test_metadata_names_the_introspection_endpoint(client, db):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["introspection_endpoint"] == "http://testserver/oauth/introspect/"
    assert body["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",  # oauthflow.private_key_jwt is installed
    ]
