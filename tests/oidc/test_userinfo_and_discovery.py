"""UserInfo (Core §5.3), the JWKS and the discovery document (Discovery 1.0 §3, §4)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import bearer
from tests.oauth_helpers import post_form, token_request
from tests.oidc.helpers import OPENID, sign_in_with_openid

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture
def tokens(signed_in, client_app):
    return sign_in_with_openid(signed_in, client_app, scope=OPENID)


def test_userinfo_by_get_and_by_post(client, user, tokens):
    got = client.get("/oauth/userinfo/", **bearer(tokens["access_token"]))
    assert got.status_code == 200 and got["Content-Type"] == "application/json"
    assert got.json()["email"] == user.email and got.json()["sub"]
    assert got["Cache-Control"] == "no-store"
    posted = post_form(client, "/oauth/userinfo/", {}, **bearer(tokens["access_token"]))
    assert posted.json() == got.json()


def test_userinfo_answers_as_rfc6750_says(client, db, signed_in, client_app):
    missing = client.get("/oauth/userinfo/")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/oauth/userinfo/", **bearer("ofat_" + "x" * 43))
    assert bad.status_code == 401 and 'error="invalid_token"' in bad["WWW-Authenticate"]
    plain = sign_in_with_openid(signed_in, client_app, scope="read")
    denied = client.get("/oauth/userinfo/", **bearer(plain["access_token"]))
    assert denied.status_code == 403 and 'error="insufficient_scope"' in denied["WWW-Authenticate"]


def test_userinfo_needs_a_signed_in_user(client, db):
    machine = factories.ClientFactory(grant_types="client_credentials")
    body = token_request(client, machine, {"grant_type": "client_credentials", "scope": "openid"})
    response = client.get("/oauth/userinfo/", **bearer(body.json()["access_token"]))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_userinfo_allows_browser_apps(client, signed_in, tokens):
    # Only the pages of the token's own client may read the answer (oauthflow.cors): a
    # confidential client's token gets no CORS, a public client's its origins.
    spa = factories.PublicClientFactory(redirect_uris="https://app.example.com/cb")
    public_tokens = sign_in_with_openid(signed_in, spa, scope=OPENID)
    preflight = client.options(
        "/oauth/userinfo/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    got = client.get(
        "/oauth/userinfo/",
        HTTP_ORIGIN="https://app.example.com",
        **bearer(public_tokens["access_token"]),
    )
    assert got["Access-Control-Allow-Origin"] == "https://app.example.com"
    confidential = client.get(
        "/oauth/userinfo/", HTTP_ORIGIN="https://app.example.com", **bearer(tokens["access_token"])
    )
    assert confidential.status_code == 200
    assert "Access-Control-Allow-Origin" not in confidential
    assert client.put("/oauth/userinfo/").status_code == 405


def test_the_jwks_publishes_public_parts_only(client, tokens, db):
    factories.ClientFactory(id_token_signed_response_alg="ES256")
    from oauthflow import keys

    keys.signing_key("ES256")
    response = client.get("/oauth/jwks/")
    assert response["Content-Type"] == "application/jwk-set+json"
    assert response["Cache-Control"] == "public, max-age=600"
    published = response.json()["keys"]
    assert {k["kty"] for k in published} == {"RSA", "EC"}
    for key in published:
        assert not PRIVATE_MEMBERS & set(key), key
        assert key["use"] == "sig" and key["kid"] and key["alg"] in ("RS256", "ES256")


def test_discovery_is_the_metadata_document(client, db):
    discovery = client.get("/.well-known/openid-configuration")
    assert discovery.status_code == 200
    assert discovery.json() == client.get("/.well-known/oauth-authorization-server").json()


def test_discovery_lists_what_openid_connect_needs(client, db):
    body = client.get("/.well-known/openid-configuration").json()
    # Discovery 1.0 §3: REQUIRED members.
    for member in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert member in body, member
    assert body["response_types_supported"] == ["code"]
    assert "none" not in body["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "address", "phone"} <= set(body["scopes_supported"])
    assert body["request_uri_parameter_supported"] is False


def test_every_advertised_endpoint_is_served(client, tokens, db):
    body = client.get("/.well-known/openid-configuration").json()
    urls = {k: v for k, v in body.items() if k.endswith(("_endpoint", "_uri"))}
    assert set(urls) >= {"userinfo_endpoint", "jwks_uri"}
    for name, address in urls.items():
        path = address.removeprefix("http://testserver")
        response = client.get(path, **bearer(tokens["access_token"]))
        assert response.status_code != 404, name


def test_every_advertised_algorithm_and_subject_type_works(signed_in, db):
    body = signed_in.get("/.well-known/openid-configuration").json()
    for alg in body["id_token_signing_alg_values_supported"]:
        for subject_type in body["subject_types_supported"]:
            client = factories.ClientFactory(
                id_token_signed_response_alg=alg, subject_type=subject_type
            )
            assert sign_in_with_openid(signed_in, client)["id_token"]
    assert body["claims_parameter_supported"] is True
    assert set(body["prompt_values_supported"]) == {"none", "login", "consent", "select_account"}
