"""The client configuration endpoint (RFC 7592): read, update and delete a registration
with its registration access token, and every refusal."""

from __future__ import annotations

import pytest

from oauthflow.models import AccessToken, Client
from oauthflow.registration.models import ClientRegistration
from oauthflow.scope import known_scopes, list_to_scope
from tests import factories
from tests.registration.conftest import (
    NATIVE_APP,
    WEB_APP,
    bearer,
    path_of,
    post_json,
    put_json,
    register,
)


@pytest.fixture
def registered(client, initial_token) -> dict:
    """A registered web app: the registration response."""
    return register(client, WEB_APP, initial_token)


def url_of(body: dict) -> str:
    return path_of(body["registration_client_uri"])


def read(http, body: dict, token: str | None = None):
    return http.get(url_of(body), **bearer(token or body["registration_access_token"]))


def test_read_returns_the_registration_without_the_secret(client, registered):
    response = read(client, registered)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert "client_secret" not in body  # stored as a digest: it cannot be shown again
    assert body["client_secret_expires_at"] == 0
    expected = {k: v for k, v in registered.items() if k != "client_secret"}
    assert body == expected


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_every_call_needs_the_clients_own_token(client, registered, initial_token, method):
    other = register(client, NATIVE_APP, initial_token)
    attempts = {
        "no token": {},
        "a wrong token": bearer("ofrg_" + "A" * 43),
        "garbage": bearer("x y z"),
        "another client's token": bearer(other["registration_access_token"]),
        "the initial access token": bearer(initial_token),
        "the client's secret": bearer(registered["client_secret"]),
        "basic credentials": {"HTTP_AUTHORIZATION": "Basic YTpi"},
    }
    for name, headers in attempts.items():
        if method == "put":
            response = put_json(client, url_of(registered), registered, None, **headers)
        else:
            response = getattr(client, method)(url_of(registered), **headers)
        assert response.status_code == 401, (name, response.content)
        if name in ("no token", "basic credentials"):
            # RFC 6750 §3.1: no Bearer token at all, so no error code in the challenge.
            assert response["WWW-Authenticate"] == "Bearer", name
            assert response.json()["error"] == "invalid_request", name
        else:
            assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"'), name
            assert response.json()["error"] == "invalid_token", name
    assert Client.objects.filter(client_id=registered["client_id"]).exists()


def test_an_unknown_client_looks_like_a_wrong_token(client, registered):
    """Whether a client exists is never told: a valid token for the wrong client_id, a
    wrong token for an existing one and anything for a missing one answer alike."""
    token = registered["registration_access_token"]
    answers = [
        client.get("/oauth/register/no-such-client/", **bearer(token)),
        client.get(url_of(registered), **bearer("ofrg_" + "A" * 43)),
        client.get("/oauth/register/no-such-client/", **bearer("ofrg_" + "A" * 43)),
    ]
    assert {(r.status_code, r.content, r["WWW-Authenticate"]) for r in answers} == {
        (answers[0].status_code, answers[0].content, answers[0]["WWW-Authenticate"])
    }


def test_a_staff_made_client_cannot_be_managed(client, registered):
    staff_made = factories.ClientFactory()
    response = client.get(
        f"/oauth/register/{staff_made.client_id}/",
        **bearer(registered["registration_access_token"]),
    )
    assert response.status_code == 401


def test_a_deactivated_client_cannot_be_managed(client, registered):
    Client.objects.filter(client_id=registered["client_id"]).update(is_active=False)
    assert read(client, registered).status_code == 401
    response = client.delete(url_of(registered), **bearer(registered["registration_access_token"]))
    assert response.status_code == 401
    assert Client.objects.filter(client_id=registered["client_id"]).exists()


def test_update_replaces_the_metadata(client, registered):
    token = registered["registration_access_token"]
    document = {
        "client_id": registered["client_id"],
        "client_name": "Photo printer 2",
        "redirect_uris": ["https://printer.example/new"],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code"],
    }
    response = put_json(client, url_of(registered), document, token)
    assert response.status_code == 200, response.content
    body = response.json()
    stored = Client.objects.get(client_id=registered["client_id"])
    assert stored.name == "Photo printer 2"
    assert stored.redirect_uri_list == ["https://printer.example/new"]
    assert stored.token_endpoint_auth_method == "client_secret_post"
    # Left out: reset (RFC 7592 §2.2), not kept: to every scope known now, by name.
    assert stored.allowed_scopes == list_to_scope(known_scopes())
    assert stored.grant_type_list == ["authorization_code"]
    # The secret is kept (and never shown again); the token too.
    assert "client_secret" not in body
    assert stored.check_client_secret(registered["client_secret"])
    assert body["registration_access_token"] == token
    assert read(client, registered).json() == body


def test_update_keeps_what_staff_decided(client, registered):
    stored = Client.objects.get(client_id=registered["client_id"])
    stored.may_introspect = True
    stored.default_scopes = "read"
    stored.save()
    document = {**registered, "skip_consent": True}
    document.pop("client_secret")
    response = put_json(
        client, url_of(registered), document, registered["registration_access_token"]
    )
    assert response.status_code == 200, response.content
    stored.refresh_from_db()
    assert stored.may_introspect and stored.default_scopes == "read"
    assert not stored.skip_consent


def test_update_may_not_leave_staffs_default_scopes_out(client, registered):
    Client.objects.filter(client_id=registered["client_id"]).update(default_scopes="read")
    document = {**WEB_APP, "client_id": registered["client_id"], "scope": "write"}
    response = put_json(
        client, url_of(registered), document, registered["registration_access_token"]
    )
    assert response.status_code == 400
    assert response.json()["error_description"].startswith("scope:")


def test_the_whole_read_document_can_be_sent_back(client, registered):
    """A client may PUT what GET gave it: the server's own members are ignored (§2.2)."""
    document = read(client, registered).json()
    response = put_json(client, url_of(registered), document, document["registration_access_token"])
    assert response.status_code == 200, response.content
    assert response.json() == document


def test_update_with_the_right_secret_is_fine_a_wrong_one_is_not(client, registered):
    token = registered["registration_access_token"]
    document = {**WEB_APP, "client_id": registered["client_id"]}
    right = put_json(
        client,
        url_of(registered),
        {**document, "client_secret": registered["client_secret"]},
        token,
    )
    assert right.status_code == 200, right.content
    for wrong in ("ofcs_" + "A" * 43, 5, ""):
        response = put_json(client, url_of(registered), {**document, "client_secret": wrong}, token)
        assert response.status_code == 400
        assert response.json()["error_description"].startswith("client_secret:")
    stored = Client.objects.get(client_id=registered["client_id"])
    assert stored.check_client_secret(registered["client_secret"])


@pytest.mark.parametrize("sent", [None, "someone-else", 5])
def test_update_needs_the_clients_own_id(client, registered, sent):
    document = {**WEB_APP, "client_id": sent}
    response = put_json(
        client, url_of(registered), document, registered["registration_access_token"]
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client_metadata",
        "error_description": "client_id: must be this client's own.",
    }


def test_an_invalid_update_changes_nothing(client, registered):
    before = Client.objects.get(client_id=registered["client_id"])
    document = {
        **WEB_APP,
        "client_id": registered["client_id"],
        "redirect_uris": ["http://x.example/"],
    }
    response = put_json(
        client, url_of(registered), document, registered["registration_access_token"]
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"
    after = Client.objects.get(client_id=registered["client_id"])
    assert after.redirect_uri_list == before.redirect_uri_list
    assert after.updated_at == before.updated_at


def test_a_public_client_turning_confidential_gets_a_secret_once(client, initial_token):
    native = register(client, NATIVE_APP, initial_token)
    document = {**NATIVE_APP, "client_id": native["client_id"]}
    document["token_endpoint_auth_method"] = "client_secret_basic"
    document["redirect_uris"] = ["https://app.example/cb"]
    response = put_json(client, url_of(native), document, native["registration_access_token"])
    assert response.status_code == 200, response.content
    secret = response.json()["client_secret"]
    stored = Client.objects.get(client_id=native["client_id"])
    assert stored.client_type == Client.CONFIDENTIAL and stored.check_client_secret(secret)
    again = put_json(client, url_of(native), document, native["registration_access_token"])
    assert "client_secret" not in again.json()
    assert stored.check_client_secret(secret)


def test_a_confidential_client_turning_public_loses_its_secret(client, registered):
    document = {**NATIVE_APP, "client_id": registered["client_id"]}
    response = put_json(
        client, url_of(registered), document, registered["registration_access_token"]
    )
    assert response.status_code == 200, response.content
    stored = Client.objects.get(client_id=registered["client_id"])
    assert stored.client_type == Client.PUBLIC and not stored.has_secret
    assert "client_secret_expires_at" not in response.json()


def test_delete_removes_the_client_and_revokes_its_tokens(client, registered, revocations):
    stored = Client.objects.get(client_id=registered["client_id"])
    token = factories.AccessTokenFactory(client=stored)
    response = client.delete(url_of(registered), **bearer(registered["registration_access_token"]))
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    assert not Client.objects.filter(pk=stored.pk).exists()
    assert not ClientRegistration.objects.exists()
    assert not AccessToken.objects.filter(pk=token.pk).exists()
    # Gone: the token no longer works, and the client no longer exists.
    assert read(client, registered).status_code == 401


@pytest.mark.parametrize("method", ["post", "patch"])
def test_other_methods_are_not_allowed(client, registered, method):
    response = getattr(client, method)(
        url_of(registered), **bearer(registered["registration_access_token"])
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, PUT, DELETE"


def test_off_management_is_gone_too(client, registered, mode):
    mode(False)
    assert read(client, registered).status_code == 404


def test_a_hostile_update_body(client, registered):
    token = registered["registration_access_token"]
    for body in (b"[]", b"{", b"\xff", b'{"client_id": 1, "client_id": 2}'):
        response = put_json(client, url_of(registered), body, token)
        assert response.status_code == 400, body
        assert response.json()["error"] == "invalid_client_metadata"


def test_registering_again_with_the_registration_token_is_refused(client, registered):
    response = post_json(client, NATIVE_APP, registered["registration_access_token"])
    assert response.status_code == 401
