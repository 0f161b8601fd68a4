"""Every refusal of the registration endpoint: the initial access token guard (401), the
request (400), each member's validation, and hostile bodies. Never a 500, never a row
written, never a use of the token spent."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from oauthflow.models import Client
from oauthflow.registration.guard import new_initial_access_token
from oauthflow.registration.models import ClientRegistration, InitialAccessToken
from tests.registration.conftest import NATIVE_APP, REGISTER, WEB_APP, post_json


def nothing_written():
    return not Client.objects.exists() and not ClientRegistration.objects.exists()


# The initial access token ---------------------------------------------------------------------


def test_no_token_is_a_challenge_without_an_error_code(client, with_tokens, db):
    response = post_json(client, WEB_APP)
    assert response.status_code == 401
    # RFC 6750 §3.1: a request without credentials gets no error code in the challenge.
    assert response["WWW-Authenticate"] == "Bearer"
    # Nor is the token invalid: it is missing, so the body says invalid_request.
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"
    assert nothing_written()


def _expired() -> str:
    return new_initial_access_token(expires_at=timezone.now() - timedelta(seconds=1))[1]


def _used_up() -> str:
    return new_initial_access_token(uses=1)[1]


def _revoked() -> str:
    row, value = new_initial_access_token()
    InitialAccessToken.objects.filter(pk=row.pk).update(revoked=True)
    return value


TOKENS = {
    "unknown": lambda: "ofit_" + "A" * 43,
    "garbage": lambda: "not a token at all",
    "too-long": lambda: "ofit_" + "A" * 500,
    "a registration access token": lambda: "ofrg_" + "B" * 43,
    "expired": _expired,
    "revoked": _revoked,
}


@pytest.mark.parametrize("kind", list(TOKENS))
def test_a_bad_token_is_invalid_token(client, with_tokens, db, kind):
    value = TOKENS[kind]()
    response = post_json(client, WEB_APP, value)
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["error"] == "invalid_token"
    assert value not in response.content.decode()
    assert nothing_written()


def test_a_used_up_token_is_refused(client, with_tokens, db):
    value = _used_up()
    assert post_json(client, NATIVE_APP, value).status_code == 201
    response = post_json(client, NATIVE_APP, value)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert Client.objects.count() == 1


def test_a_bad_token_is_refused_before_the_body_is_judged(client, with_tokens, db):
    response = post_json(client, b"not json", "ofit_" + "A" * 43)
    assert response.status_code == 401


def test_a_refused_registration_spends_no_use(client, with_tokens, db):
    row, value = new_initial_access_token(uses=1)
    response = post_json(client, {**WEB_APP, "redirect_uris": ["http://evil.example/"]}, value)
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.uses_left == 1 and row.last_used_at is None


def test_a_token_revoked_between_check_and_use_is_refused(client, with_tokens, db, monkeypatch):
    """The conditional UPDATE decides, not the first read."""
    from oauthflow.registration import guard

    row, value = new_initial_access_token(uses=5)
    checked = guard.check_initial_access_token

    def then_revoked(presented):
        found = checked(presented)
        InitialAccessToken.objects.filter(pk=row.pk).update(revoked=True)
        return found

    monkeypatch.setattr(guard, "check_initial_access_token", then_revoked)
    response = post_json(client, WEB_APP, value)
    assert response.status_code == 401
    assert nothing_written()


def test_another_authorization_scheme_is_no_token(client, with_tokens, db):
    response = post_json(client, WEB_APP, HTTP_AUTHORIZATION="Basic YTpi")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


# The request ------------------------------------------------------------------------------------


def error_of(response, status=400) -> tuple[str, str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error_description"].isascii() and body["error_description"].isprintable()
    return body["error"], body["error_description"]


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_registers(client, initial_token, method):
    response = getattr(client, method)(REGISTER)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_https_only(client, initial_token, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    error, _ = error_of(post_json(client, WEB_APP, initial_token))
    assert error == "invalid_request"
    secure = post_json(client, WEB_APP, initial_token, secure=True)
    assert secure.status_code == 201


BODIES = {
    "not json": b"client_name=x",
    "empty": b"",
    "an array": b"[]",
    "a string": b'"x"',
    "null": b"null",
    "not utf-8": b'{"client_name": "\xff"}',
    "a repeated member": b'{"client_name": "a", "client_name": "b"}',
    "NaN": b'{"client_name": NaN}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "a huge number": b'{"x": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_body_that_is_not_a_json_object(client, initial_token, kind):
    error, _description = error_of(post_json(client, BODIES[kind], initial_token))
    assert error == "invalid_client_metadata"
    assert nothing_written()


def test_a_huge_body_is_refused_unread(client, initial_token):
    body = json.dumps({**WEB_APP, "padding": "x" * 100_000})
    error, description = error_of(post_json(client, body, initial_token))
    assert (error, description) == (
        "invalid_client_metadata",
        "The registration request is too large.",
    )


def test_form_data_is_refused(client, initial_token):
    response = client.post(
        REGISTER,
        "client_name=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {initial_token}",
    )
    _error, description = error_of(response)
    assert description == "The body must be application/json."


def test_software_statements_are_not_accepted(client, initial_token):
    response = post_json(client, {**WEB_APP, "software_statement": "eyJ..."}, initial_token)
    assert error_of(response)[0] == "unapproved_software_statement"


# Each member ------------------------------------------------------------------------------------

#: (member, a bad value, the error). Every member, every wrong JSON type.
BAD_MEMBERS = [
    ("redirect_uris", "https://one.example/cb", "invalid_redirect_uri"),
    ("redirect_uris", [1], "invalid_redirect_uri"),
    ("redirect_uris", ["http://evil.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["http://localhost/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://a.example/cb#frag"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://*.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["javascript:alert(1)"], "invalid_redirect_uri"),
    ("redirect_uris", ["myapp:/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://u:p@a.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["/relative"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://\u00e9.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://a.example/\x00"], "invalid_redirect_uri"),
    ("redirect_uris", [f"https://a.example/{i}" for i in range(40)], "invalid_redirect_uri"),
    ("redirect_uris", ["https://a.example/cb", "https://a.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", [], "invalid_redirect_uri"),  # the code grant needs one
    ("token_endpoint_auth_method", "client_secret_jwt", "invalid_client_metadata"),
    ("token_endpoint_auth_method", ["none"], "invalid_client_metadata"),
    ("token_endpoint_auth_method", 1, "invalid_client_metadata"),
    ("grant_types", ["implicit"], "invalid_client_metadata"),
    ("grant_types", ["password"], "invalid_client_metadata"),
    ("grant_types", "authorization_code", "invalid_client_metadata"),
    ("grant_types", [{"a": 1}], "invalid_client_metadata"),
    ("response_types", ["token"], "invalid_client_metadata"),
    ("response_types", ["code id_token"], "invalid_client_metadata"),
    ("response_types", [], "invalid_client_metadata"),  # authorization_code needs code
    ("response_types", "code", "invalid_client_metadata"),
    ("client_name", 7, "invalid_client_metadata"),
    ("client_name", "x" * 201, "invalid_client_metadata"),
    ("client_name", "Bank\u202eevil", "invalid_client_metadata"),
    ("client_name", "a\x00b", "invalid_client_metadata"),
    ("client_name", "\ud800", "invalid_client_metadata"),
    ("client_uri", "javascript:alert(1)", "invalid_client_metadata"),
    ("client_uri", "https://", "invalid_client_metadata"),
    ("client_uri", ["https://a.example"], "invalid_client_metadata"),
    ("logo_uri", "ftp://a.example/logo.png", "invalid_client_metadata"),
    ("logo_uri", "https://a.example/" + "x" * 300, "invalid_client_metadata"),
    ("scope", "read admin", "invalid_client_metadata"),
    ("scope", ["read"], "invalid_client_metadata"),
    ("scope", 'read "x"', "invalid_client_metadata"),
    ("jwks", "{}", "invalid_client_metadata"),
    ("jwks", {"keys": "x"}, "invalid_client_metadata"),
    ("jwks", {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "invalid_client_metadata"),
    ("jwks", {"keys": [{"kty": "EC"}]}, "invalid_client_metadata"),
    ("jwks", {"keys": [{"x": "y" * 40_000}]}, "invalid_client_metadata"),
    ("jwks_uri", "http://keys.example/jwks", "invalid_client_metadata"),
    ("jwks_uri", "not a url", "invalid_client_metadata"),
    ("jwks_uri", 5, "invalid_client_metadata"),
    ("post_logout_redirect_uris", ["http://evil.example/"], "invalid_client_metadata"),
    ("post_logout_redirect_uris", "https://a.example/", "invalid_client_metadata"),
    ("backchannel_logout_uri", "com.example.app:/logout", "invalid_client_metadata"),
    ("backchannel_logout_uri", ["https://a.example/"], "invalid_client_metadata"),
    ("id_token_signed_response_alg", "none", "invalid_client_metadata"),
    ("id_token_signed_response_alg", "HS256", "invalid_client_metadata"),
    ("subject_type", "secret", "invalid_client_metadata"),
    ("sector_identifier_uri", "https://victim.example/sector.json", "invalid_client_metadata"),
    ("dpop_bound_access_tokens", "true", "invalid_client_metadata"),
    ("dpop_bound_access_tokens", 1, "invalid_client_metadata"),
    ("require_pushed_authorization_requests", "yes", "invalid_client_metadata"),
    ("software_id", 12, "invalid_client_metadata"),
    ("software_version", "v" * 201, "invalid_client_metadata"),
]


@pytest.mark.parametrize(
    ("member", "value", "expected"),
    BAD_MEMBERS,
    ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD_MEMBERS)],
)
def test_a_bad_member_is_refused_and_named(client, initial_token, member, value, expected):
    response = post_json(client, {**WEB_APP, member: value}, initial_token)
    error, description = error_of(response)
    assert error == expected
    assert description.startswith(f"{member}:"), description
    assert nothing_written()


def test_jwks_and_jwks_uri_together(client, initial_token):
    from joserfc.jwk import ECKey

    jwks = {"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}
    document = {**WEB_APP, "jwks": jwks, "jwks_uri": "https://keys.example/jwks"}
    error, description = error_of(post_json(client, document, initial_token))
    assert error == "invalid_client_metadata" and description.startswith("jwks_uri:")


def test_a_public_client_cannot_use_client_credentials(client, db, mode):
    mode("open", REGISTRATION_GRANT_TYPES=["client_credentials", "authorization_code"])
    document = {
        **NATIVE_APP,
        "grant_types": ["authorization_code", "client_credentials"],
        "response_types": ["code"],
    }
    error, description = error_of(post_json(client, document))
    assert error == "invalid_client_metadata" and description.startswith("grant_types:")


def test_a_pairwise_client_on_several_hosts(client, initial_token):
    document = {
        **WEB_APP,
        "subject_type": "pairwise",
        "redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
    }
    _error, description = error_of(post_json(client, document, initial_token))
    # Client.clean() puts it on the sector identifier URI, which the client cannot set.
    assert _error == "invalid_client_metadata"
    assert description.startswith("sector_identifier_uri:"), description


def test_null_members_are_absent(client, initial_token):
    response = post_json(
        client, {**NATIVE_APP, "client_uri": None, "scope": None, "jwks": None}, initial_token
    )
    assert response.status_code == 201, response.content


def test_a_non_ascii_name_is_fine(client, initial_token):
    response = post_json(client, {**NATIVE_APP, "client_name": "Café Ω 写真"}, initial_token)
    assert response.status_code == 201, response.content
    assert response.json()["client_name"] == "Café Ω 写真"


def test_unknown_members_of_every_type_are_ignored(client, initial_token):
    document = {
        **NATIVE_APP,
        "x": [[[[{"deep": None}]]]],
        "y": 1e308,
        "z": "\u0000",
        "\u202e": True,
    }
    assert post_json(client, document, initial_token).status_code == 201


def test_error_descriptions_do_not_echo_hostile_text(client, initial_token):
    for member, value in [
        ("redirect_uris", ["http://evil.example/<script>"]),
        ("post_logout_redirect_uris", ["http://evil.example/<script>"]),
        ("backchannel_logout_uri", "http://evil.example/<script>"),
    ]:
        response = post_json(client, {**WEB_APP, member: value}, initial_token)
        _, description = error_of(response)
        assert "<script>" not in description and "evil" not in description
        # The validator's own words, the URI left out.
        assert description.startswith(f"{member}: The URI must use https"), description


def test_a_redirect_uri_error_says_what_to_do(client, initial_token):
    response = post_json(
        client, {**WEB_APP, "redirect_uris": ["http://localhost/cb"]}, initial_token
    )
    _, description = error_of(response)
    assert "127.0.0.1" in description and "RFC 8252 Section 8.3" in description


def test_many_requests_from_a_fuzzer_never_500(db, with_tokens):
    """Every member with every JSON type: 201 or 400, never more."""
    http = HttpClient()
    value = new_initial_access_token()[1]
    samples = [None, True, 0, -1, 1.5, "", "x", [], [""], ["x"], [1], {}, {"a": 1}, "\u0000"]
    members = [
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "client_name",
        "client_uri",
        "logo_uri",
        "scope",
        "jwks",
        "jwks_uri",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "id_token_signed_response_alg",
        "subject_type",
        "sector_identifier_uri",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
        "software_id",
        "software_version",
        "software_statement",
    ]
    for member in members:
        for sample in samples:
            response = post_json(http, {**NATIVE_APP, member: sample}, value)
            assert response.status_code in (201, 400), (member, sample, response.content)
