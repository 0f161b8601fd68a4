"""The revocation endpoint (RFC 7009)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oauthflow import tokens
from oauthflow.models import AccessToken, RefreshToken
from tests import factories
from tests.oauth_helpers import basic, exchange, get_code, new_verifier, token_request

REVOKE = "/oauth/revoke/"


def revoke(http, client_app, data: dict, auth: str = "basic"):
    data = dict(data)
    headers = {}
    if client_app.is_confidential and auth == "basic":
        headers["HTTP_AUTHORIZATION"] = basic(client_app.client_id, client_app.secret)
    elif client_app.is_confidential:
        data.update(client_id=client_app.client_id, client_secret=client_app.secret)
    else:
        data["client_id"] = client_app.client_id
    return http.post(
        REVOKE, urlencode(data), content_type="application/x-www-form-urlencoded", **headers
    )


@pytest.fixture
def issued(client, user, client_app):
    client.force_login(user)
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier)
    return exchange(client, client_app, code, verifier).json()


def row(model, value):
    return model.objects.get(digest=tokens.digest(value))


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "bogus"])
def test_revoking_an_access_token_revokes_only_it(client, client_app, issued, hint):
    data = {"token": issued["access_token"]}
    if hint:
        data["token_type_hint"] = hint
    response = revoke(client, client_app, data)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert row(AccessToken, issued["access_token"]).is_revoked()
    assert not row(RefreshToken, issued["refresh_token"]).is_revoked()


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_revoking_a_refresh_token_revokes_its_family(client, client_app, issued, auth):
    refreshed = token_request(
        client,
        client_app,
        {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
    ).json()
    response = revoke(client, client_app, {"token": refreshed["refresh_token"]}, auth=auth)
    assert response.status_code == 200
    family = row(RefreshToken, refreshed["refresh_token"]).family
    assert not AccessToken.objects.filter(family=family).active().exists()
    assert not RefreshToken.objects.filter(family=family).active().exists()
    again = token_request(
        client,
        client_app,
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
    )
    assert again.json()["error"] == "invalid_grant"


def test_public_client_revokes_with_its_client_id(client, user, public_client):
    client.force_login(user)
    verifier = new_verifier()
    code = get_code(client, public_client, verifier=verifier)
    body = exchange(client, public_client, code, verifier).json()
    assert revoke(client, public_client, {"token": body["refresh_token"]}).status_code == 200
    assert row(RefreshToken, body["refresh_token"]).is_revoked()


def test_unknown_token_is_200_and_changes_nothing(client, client_app, issued):
    response = revoke(client, client_app, {"token": "ofat_unknown"})
    assert response.status_code == 200
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()


def test_another_clients_token_is_200_and_changes_nothing(client, client_app, issued):
    other = factories.ClientFactory()
    response = revoke(client, other, {"token": issued["access_token"]})
    assert response.status_code == 200
    assert not row(AccessToken, issued["access_token"]).is_revoked()


def test_bad_client_credentials_are_invalid_client(client, client_app, issued):
    client_app.secret = "ofcs_wrong"
    response = revoke(client, client_app, {"token": issued["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not row(AccessToken, issued["access_token"]).is_revoked()


def test_missing_token_is_invalid_request(client, client_app):
    response = revoke(client, client_app, {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "body", [b"token=%00", b"token=a&token=b", b"token=\xff", b"token=" + b"x" * 5000]
)
def test_malformed_body_is_invalid_request(client, client_app, body):
    response = client.post(
        REVOKE,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_is_405(client, db):
    response = client.get(REVOKE)
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_metadata_names_the_revocation_endpoint(client, db):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["revocation_endpoint"] == "http://testserver/oauth/revoke/"
