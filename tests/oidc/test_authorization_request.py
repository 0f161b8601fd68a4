"""OpenID Connect parameters of the authorization request (Core §3.1.2): prompt,
max_age, id_token_hint, claims, login_hint, ui_locales, and hostile values of each."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from oauthflow import keys
from oauthflow.oidc.authentication import SESSION_AUTH_TIME
from tests import factories
from tests.oauth_helpers import authorize_url, new_verifier, query_of
from tests.oidc.helpers import OPENID, sign_in_with_openid, verify

PASSWORD = "correct horse battery staple"


def url(client, **params) -> str:
    params.setdefault("scope", OPENID)
    return authorize_url(client, verifier=new_verifier(), **params)


def login_next(response) -> str:
    assert response.status_code == 302, response.content
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    return parse_qs(login.query)["next"][0]


def redirected_error(response) -> dict:
    assert response.status_code == 302, response.content
    params = query_of(response["Location"])
    assert params["state"] == "xyz-state" and params["iss"] == "http://testserver"
    return params


@pytest.fixture
def consented(signed_in, client_app):
    """Alice has allowed the client everything once, so prompt=none may pass."""
    sign_in_with_openid(signed_in, client_app, scope=OPENID)
    return signed_in


def test_prompt_none_without_a_session_is_login_required(client, user, client_app):
    params = redirected_error(client.get(url(client_app, prompt="none")))
    assert params["error"] == "login_required"


def test_prompt_none_without_consent_is_consent_required(signed_in, client_app):
    params = redirected_error(signed_in.get(url(client_app, prompt="none")))
    assert params["error"] == "consent_required"


def test_prompt_none_with_consent_returns_a_code(consented, client_app):
    assert "code" in query_of(consented.get(url(client_app, prompt="none"))["Location"])


def test_openid_requests_must_name_their_redirect_uri(signed_in, client_app):
    params = redirected_error(signed_in.get(url(client_app, redirect_uri=None)))
    assert params["error"] == "invalid_request"


def test_max_age_passed_asks_for_a_new_sign_in(client, user, client_app):
    client.login(username="alice", password=PASSWORD)
    session = client.session
    session[SESSION_AUTH_TIME] = int(time.time()) - 600
    session.save()
    target = url(client_app, max_age="300")
    next_url = login_next(client.get(target))
    back = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": next_url}
    )["Location"]
    assert client.get(back).status_code == 200  # the consent page: signed in afresh
    response = client.post(back, {"decision": "allow"})
    assert "code" in query_of(response["Location"])


def test_max_age_within_goes_on(signed_in, client_app):
    assert signed_in.get(url(client_app, max_age="3600")).status_code == 200


def test_max_age_zero_with_prompt_none_is_login_required(consented, client_app):
    params = redirected_error(consented.get(url(client_app, max_age="0", prompt="none")))
    assert params["error"] == "login_required"


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "99999999999"])
def test_a_malformed_max_age_is_invalid_request(signed_in, client_app, value):
    assert redirected_error(signed_in.get(url(client_app, max_age=value)))["error"] == (
        "invalid_request"
    )


def test_auth_time_is_the_real_sign_in_time(signed_in, client_app):
    session = signed_in.session
    session[SESSION_AUTH_TIME] = stamped = int(time.time()) - 1234
    session.save()
    claims = verify(signed_in, sign_in_with_openid(signed_in, client_app)["id_token"])
    assert claims["auth_time"] == stamped


def test_select_account_asks_for_a_sign_in(signed_in, client_app):
    login_next(signed_in.get(url(client_app, prompt="select_account")))


def test_login_hint_reaches_the_sign_in_page(client, user, client_app):
    response = client.get(url(client_app, login_hint="alice"))
    assert query_of(response["Location"])["login_hint"] == "alice"
    page = client.get("/oauth/login/?login_hint=alice")
    assert 'value="alice"' in page.content.decode()


def test_ui_locales_chooses_the_language_of_the_pages(signed_in, client_app):
    page = signed_in.get(url(client_app, ui_locales="xx de-CH"))
    assert page.status_code == 200 and '<html lang="de"' in page.content.decode()


def test_ui_locales_lasts_one_request(signed_in, client_app, settings):
    # Without LocaleMiddleware nothing else would reset the thread's language.
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "django.middleware.locale.LocaleMiddleware"
    ]
    assert '<html lang="de"' in signed_in.get(url(client_app, ui_locales="de")).content.decode()
    assert '<html lang="en"' in signed_in.get(url(client_app)).content.decode()


def test_the_consent_page_names_claims_asked_beyond_the_scopes(signed_in, client_app):
    claims = json.dumps({"userinfo": {"phone_number": None, "email": None}})
    page = signed_in.get(url(client_app, scope="openid", claims=claims)).content.decode()
    assert "Your email address (email)" in page and "Your phone number (phone_number)" in page


# id_token_hint -------------------------------------------------------------------------


def test_id_token_hint_of_the_signed_in_user_with_prompt_none(consented, client_app):
    hint = sign_in_with_openid(consented, client_app)["id_token"]
    response = consented.get(url(client_app, prompt="none", id_token_hint=hint))
    assert "code" in query_of(response["Location"])


def test_id_token_hint_of_another_user(consented, user, client_app):
    bob = factories.UserFactory(username="bob")
    consented.force_login(bob)
    hint_for_bob = sign_in_with_openid(consented, client_app)["id_token"]
    consented.force_login(user)
    params = redirected_error(
        consented.get(url(client_app, prompt="none", id_token_hint=hint_for_bob))
    )
    assert params["error"] == "login_required"
    # Without prompt=none: the user may sign in as the one the client expects.
    login_next(consented.get(url(client_app, id_token_hint=hint_for_bob)))


def _foreign_token(kid: str, **claims) -> str:
    key = RSAKey.generate_key(2048, parameters={"kid": kid})
    return jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x", **claims}, key)


def hostile_hints(consented, client_app):
    good = sign_in_with_openid(consented, client_app)["id_token"]
    kid = _kid(good)
    assert keys.verification_key(kid) is not None
    other_client = factories.ClientFactory()
    return {
        "garbage": "not-a-jwt",
        "three dots": "a.b.c",
        "unknown kid": _foreign_token("nobody-has-this"),
        "our kid, foreign key": _foreign_token(
            kid, iss="http://testserver", aud=client_app.client_id
        ),
        "another client's": sign_in_with_openid(consented, other_client)["id_token"],
        "alg none": _unsigned(good),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    }


def _kid(token: str) -> str:
    import base64

    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]


def _unsigned(token: str) -> str:
    import base64

    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": _kid(token)}).encode())
    return header.rstrip(b"=").decode() + "." + token.split(".")[1] + "."


def test_hostile_id_token_hints_are_invalid_request(consented, client_app):
    for name, hint in hostile_hints(consented, client_app).items():
        response = consented.get(url(client_app, prompt="none", id_token_hint=hint))
        assert redirected_error(response)["error"] == "invalid_request", name


# The claims parameter ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        json.dumps({"userinfo": ["email"]}),
        json.dumps({"id_token": {"email": "yes"}}),
        json.dumps({"id_token": {"email": {"essential": "yes"}}}),
        json.dumps({"userinfo": {f"claim{i}": None for i in range(41)}}),
        json.dumps({"userinfo": {"x" * 65: None}}),
        "[" * 2000 + "]" * 2000,
    ],
)
def test_a_malformed_claims_parameter_is_invalid_request(signed_in, client_app, value):
    response = signed_in.get(url(client_app, claims=value))
    assert redirected_error(response)["error"] == "invalid_request"


def test_an_oversized_claims_parameter_gets_an_error_page(signed_in, client_app):
    value = json.dumps({"userinfo": {"email": {"values": ["x" * 5000]}}})
    response = signed_in.get(url(client_app, claims=value))
    assert response.status_code == 400


def test_a_nonce_too_long_is_invalid_request(signed_in, client_app):
    assert redirected_error(signed_in.get(url(client_app, nonce="n" * 513)))["error"] == (
        "invalid_request"
    )


def test_implicit_and_hybrid_stay_refused(signed_in, client_app):
    for response_type in ("id_token", "id_token token", "code id_token"):
        response = signed_in.get(url(client_app, response_type=response_type, nonce="n"))
        assert redirected_error(response)["error"] == "unsupported_response_type"


def test_claims_beyond_remembered_scopes_are_asked_again(consented, client_app):
    """A consent to "openid" does not cover email asked for by name in claims."""
    claims = json.dumps({"userinfo": {"email": None, "phone_number": None}})
    page = consented.get(url(client_app, scope="openid", claims=claims))
    assert page.status_code == 200 and "Your email address (email)" in page.content.decode()
    silent = consented.get(url(client_app, scope="openid", claims=claims, prompt="none"))
    assert redirected_error(silent)["error"] == "consent_required"


def test_a_non_ascii_digit_in_max_age_is_refused(signed_in, client_app):
    # Refused with the other non-ASCII input, before any parameter is read.
    assert signed_in.get(url(client_app, max_age="\u00b2")).status_code == 400
