"""The registration endpoint (RFC 7591 §3): what is registered, what is answered, and
that the client then works (a code flow through the test client)."""

from __future__ import annotations

import pytest

from oauthflow import tokens
from oauthflow.models import Client
from oauthflow.registration.models import ClientRegistration, InitialAccessToken
from oauthflow.scope import known_scopes, list_to_scope
from tests.oauth_helpers import exchange, get_code, new_verifier
from tests.registration.conftest import (
    NATIVE_APP,
    REGISTER,
    WEB_APP,
    path_of,
    post_json,
    register,
)


def test_a_web_app_registers_and_gets_its_credentials_once(client, initial_token):
    body = register(client, WEB_APP, initial_token)

    stored = Client.objects.get(client_id=body["client_id"])
    assert stored.name == "Photo printer"
    assert stored.client_type == Client.CONFIDENTIAL
    assert stored.token_endpoint_auth_method == "client_secret_basic"
    assert stored.redirect_uri_list == ["https://printer.example/callback"]
    assert stored.grant_type_list == ["authorization_code", "refresh_token"]
    assert stored.allowed_scopes == "read"
    # Trust is staff's: never from a registration.
    assert not stored.skip_consent and not stored.may_introspect
    assert not stored.resources.exists() and stored.owner is None

    # The secret and the registration access token are shown here, stored as digests.
    assert body["client_secret"].startswith("ofcs_")
    assert stored.check_client_secret(body["client_secret"])
    assert body["client_secret_expires_at"] == 0
    assert body["registration_access_token"].startswith("ofrg_")
    registration = ClientRegistration.objects.get(client=stored)
    assert registration.access_token_digest == tokens.digest(body["registration_access_token"])
    assert registration.access_token_hint == tokens.hint(body["registration_access_token"])
    assert body["registration_client_uri"] == (
        f"http://testserver/oauth/register/{stored.client_id}/"
    )
    assert body["client_id_issued_at"] == int(stored.created_at.timestamp())
    # Every registered value, as stored (RFC 7591 §3.2.1).
    for member in ("client_name", "redirect_uris", "grant_types", "response_types"):
        assert body[member] == WEB_APP[member]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["scope"] == "read"

    assert response_headers_say_no_store(client, initial_token)


def response_headers_say_no_store(client, token) -> bool:
    response = post_json(client, {**WEB_APP, "client_name": "Another"}, token)
    return response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"


def test_the_initial_access_token_is_recorded(client, db, with_tokens):
    from oauthflow.registration.guard import new_initial_access_token

    row, value = new_initial_access_token(uses=2, note="partner")
    body = register(client, WEB_APP, value)
    registration = ClientRegistration.objects.get(client__client_id=body["client_id"])
    assert registration.initial_access_token == row
    assert registration.initial_access_token_hint == row.hint
    row.refresh_from_db()
    assert row.uses_left == 1 and row.last_used_at is not None


def test_a_native_app_registers_as_a_public_client(client, initial_token):
    body = register(client, NATIVE_APP, initial_token)
    stored = Client.objects.get(client_id=body["client_id"])
    assert stored.client_type == Client.PUBLIC
    assert not stored.has_secret
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    # RFC 7591 §2: grant_types defaults to authorization_code.
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]


def test_defaults_of_a_minimal_registration(client, initial_token):
    body = register(client, {"redirect_uris": ["https://min.example/cb"]}, initial_token)
    stored = Client.objects.get(client_id=body["client_id"])
    # RFC 7591 §2: client_secret_basic and authorization_code by default.
    assert stored.token_endpoint_auth_method == "client_secret_basic"
    assert stored.grant_type_list == ["authorization_code"]
    # No name given: the consent page shows the client_id, not a made-up name.
    assert stored.name == stored.client_id == body["client_name"]
    # Every scope known now, by name: never "" (every scope, those added later too).
    assert stored.allowed_scopes == list_to_scope(known_scopes())
    assert body["scope"] == stored.allowed_scopes


def test_unknown_members_are_ignored_and_trust_is_never_taken(client, initial_token):
    body = register(
        client,
        {
            **WEB_APP,
            "skip_consent": True,
            "may_introspect": True,
            "client_type": "public",
            "client_id": "chosen-id",
            "client_secret": "chosen-secret",
            "allowed_origins": ["https://evil.example"],
            "tos_uri": "https://printer.example/tos",
            "client_name#fr": "Imprimante",
        },
        initial_token,
    )
    stored = Client.objects.get(client_id=body["client_id"])
    assert stored.client_id != "chosen-id"
    assert not stored.check_client_secret("chosen-secret")
    assert not stored.skip_consent and not stored.may_introspect
    assert stored.client_type == Client.CONFIDENTIAL
    assert stored.allowed_origins == ""
    for member in ("skip_consent", "may_introspect", "tos_uri", "client_name#fr"):
        assert member not in body


def test_registered_metadata_round_trips(client, initial_token):
    document = {
        **WEB_APP,
        "client_uri": "https://printer.example/",
        "logo_uri": "https://printer.example/logo.png",
        "post_logout_redirect_uris": ["https://printer.example/bye"],
        "backchannel_logout_uri": "https://printer.example/logout",
        "id_token_signed_response_alg": "ES256",
        "subject_type": "pairwise",
        "dpop_bound_access_tokens": True,
        "require_pushed_authorization_requests": True,
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "software_version": "2.1",
    }
    body = register(client, document, initial_token)
    for member, value in document.items():
        assert body[member] == value, member
    stored = Client.objects.get(client_id=body["client_id"])
    assert stored.homepage_url == "https://printer.example/"
    assert stored.logo_url == "https://printer.example/logo.png"
    assert stored.subject_type == "pairwise"
    assert stored.dpop_bound_access_tokens and stored.require_pushed_authorization_requests
    assert stored.dynamic_registration.software_id == "4NRB1-0XZABZI9E6-5SM3R"


def test_a_client_with_keys_registers_jwks(client, initial_token):
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256")
    jwks = {"keys": [key.as_dict(private=False)]}
    body = register(
        client,
        {**NATIVE_APP, "token_endpoint_auth_method": "none", "jwks": jwks},
        initial_token,
    )
    stored = Client.objects.get(client_id=body["client_id"])
    assert body["jwks"] == jwks
    assert stored.jwks


def test_the_registered_client_completes_a_code_flow(client, initial_token, user):
    body = register(client, WEB_APP, initial_token)
    registered = Client.objects.get(client_id=body["client_id"])
    registered.secret = body["client_secret"]
    client.force_login(user)
    verifier = new_verifier()

    code = get_code(client, registered, verifier=verifier)
    response = exchange(client, registered, code, verifier)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"


def test_open_mode_needs_no_token(client, db, mode):
    mode("open")
    body = register(client, NATIVE_APP)
    registration = ClientRegistration.objects.get(client__client_id=body["client_id"])
    assert registration.initial_access_token is None


def test_open_mode_still_checks_and_counts_a_token_presented(client, db, mode):
    from oauthflow.registration.guard import new_initial_access_token

    mode("open")
    row, value = new_initial_access_token(uses=1)
    register(client, NATIVE_APP, value)
    response = post_json(client, NATIVE_APP, value)
    assert response.status_code == 401
    assert InitialAccessToken.objects.get(pk=row.pk).uses_left == 0


@pytest.mark.parametrize("value", [False, "nonsense", True])
def test_off_the_endpoints_do_not_exist(client, db, mode, value):
    mode(value)
    assert post_json(client, NATIVE_APP).status_code == 404
    assert client.get(REGISTER + "abc/").status_code == 404
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert "registration_endpoint" not in metadata
    assert "registration_endpoint" not in client.get("/.well-known/openid-configuration").json()


@pytest.mark.parametrize("value", ["initial_access_token", "open"])
def test_on_the_endpoint_is_advertised_where_it_is_served(client, db, mode, value):
    mode(value)
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["registration_endpoint"] == "http://testserver/oauth/register/"
    oidc = client.get("/.well-known/openid-configuration").json()
    assert oidc["registration_endpoint"] == metadata["registration_endpoint"]
    # Served where advertised: a registration there answers (here: no token, 401 or 201).
    response = post_json(client, NATIVE_APP)
    assert response.status_code == (201 if value == "open" else 401)


def test_the_registration_client_uri_is_under_the_issuer(client, initial_token, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://auth.example"}
    body = register(client, NATIVE_APP, initial_token)
    assert body["registration_client_uri"].startswith("https://auth.example/oauth/register/")
    assert path_of(body["registration_client_uri"]) == f"/oauth/register/{body['client_id']}/"


def test_registration_scopes_limit_and_default(client, db, mode):
    mode("open", REGISTRATION_SCOPES=["read", "profile"])
    body = register(client, NATIVE_APP)
    assert body["scope"] == "read profile"  # none asked: all a registered client may have
    assert Client.objects.get(client_id=body["client_id"]).allowed_scopes == "read profile"
    refused = post_json(client, {**NATIVE_APP, "scope": "read write"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_client_metadata"
    assert refused.json()["error_description"].startswith("scope:")


def test_client_credentials_is_not_for_registered_clients_by_default(client, db, mode):
    mode("open")
    document = {**WEB_APP, "grant_types": ["client_credentials"], "redirect_uris": []}
    document.pop("response_types")
    refused = post_json(client, document)
    assert refused.status_code == 400
    assert refused.json()["error_description"].startswith("grant_types:")

    mode("open", REGISTRATION_GRANT_TYPES=["client_credentials"])
    body = register(client, document)
    assert body["grant_types"] == ["client_credentials"]
    assert body["response_types"] == []
