"""OAuth2Authentication through DRF's test client: every RFC 6750 answer."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from oauthflow import tokens
from oauthflow.models import AccessToken
from oauthflow.rest_framework import OAuth2Authentication
from tests import factories
from tests.conftest import bearer

REALM_ONLY = 'Bearer realm="api"'


def invalid_token(description):
    return f'Bearer realm="api", error="invalid_token", error_description="{description}"'


@pytest.fixture
def api():
    return APIClient()


def test_valid_token_authenticates_its_user(api, access_token):
    response = api.get("/api/read/", **bearer(access_token.value))
    assert response.status_code == 200
    assert response.json() == {
        "user": "alice",
        "client_id": access_token.client.client_id,
        "scopes": ["read"],
        "client_credentials": False,
        "method": "GET",
    }
    assert "WWW-Authenticate" not in response


def test_request_auth_is_the_access_token(access_token):
    request = APIRequestFactory().get("/", **bearer(access_token.value))
    user, token = OAuth2Authentication().authenticate(Request(request))
    assert user == access_token.user
    assert token == access_token
    assert token.client == access_token.client
    assert token.scopes == {"read"}
    assert token.expires_at == access_token.expires_at


def test_one_query_per_protected_request(api, access_token, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert api.get("/api/read/", **bearer(access_token.value)).status_code == 200


def test_no_credentials_is_401_with_bare_challenge(api, db):
    response = api.get("/api/read/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM_ONLY


def test_other_scheme_is_left_to_other_classes_then_401(api, db):
    response = api.get("/api/read/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM_ONLY


def test_other_authenticator_runs_when_no_bearer_header(user, db):
    api = APIClient()
    api.force_login(user)
    response = api.get("/api/session-or-token/")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"


def test_unknown_token_is_401_invalid_token(api, db):
    response = api.get("/api/read/", **bearer(tokens.generate("ofat")))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == invalid_token("The access token is unknown.")
    assert response.json() == {"detail": "The access token is unknown."}


def test_expired_token_is_401_invalid_token(api, db):
    token = factories.AccessTokenFactory(expires_at=timezone.now() - timedelta(minutes=1))
    response = api.get("/api/read/", **bearer(token.value))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == invalid_token("The access token expired.")


def test_revoked_token_is_401_invalid_token(api, access_token):
    AccessToken.objects.filter(pk=access_token.pk).revoke()
    response = api.get("/api/read/", **bearer(access_token.value))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == invalid_token("The access token was revoked.")


def test_inactive_client_token_is_401_invalid_token(api, access_token):
    access_token.client.is_active = False
    access_token.client.save()
    response = api.get("/api/read/", **bearer(access_token.value))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == invalid_token(
        "The client of the access token is disabled."
    )


def test_inactive_user_token_is_401_invalid_token(api, access_token):
    access_token.user.is_active = False
    access_token.user.save()
    response = api.get("/api/read/", **bearer(access_token.value))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == invalid_token(
        "The user of the access token is inactive."
    )


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Bearer a b", "Bearer tökén", "Bearer " + "x" * 100_000, "bearer \x7f"],
)
def test_malformed_header_is_401_invalid_token(api, db, value):
    response = api.get("/api/read/", HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_lowercase_scheme_and_extra_spaces_are_accepted(api, access_token):
    response = api.get("/api/read/", HTTP_AUTHORIZATION=f"bearer    {access_token.value}")
    assert response.status_code == 200


def test_query_parameter_token_is_ignored(api, access_token):
    response = api.get("/api/read/", {"access_token": access_token.value})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM_ONLY


@pytest.fixture
def form_body_allowed(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_FORM_BODY_TOKEN": True}


def _urlencoded(api, path, body, **extra):
    return api.generic(
        "POST", path, body, content_type="application/x-www-form-urlencoded", **extra
    )


def test_form_body_token_is_ignored_by_default(api, access_token):
    response = _urlencoded(api, "/api/form/", f"access_token={access_token.value}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == REALM_ONLY


def test_form_body_token_is_accepted_when_allowed(api, access_token, form_body_allowed):
    response = _urlencoded(api, "/api/form/", f"access_token={access_token.value}&note=hi")
    assert response.status_code == 200
    # The view still reads the body after the token was taken from it.
    assert response.json()["data"] == {"note": "hi"}
    assert response.json()["user"] == "alice"


def test_token_in_header_and_body_is_400_invalid_request(api, access_token, form_body_allowed):
    response = _urlencoded(
        api, "/api/form/", f"access_token={access_token.value}", **bearer(access_token.value)
    )
    assert response.status_code == 400
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


def test_client_credentials_token_authenticates_anonymous_user(db):
    token = factories.AccessTokenFactory(user=None)
    request = APIRequestFactory().get("/", **bearer(token.value))
    user, auth = OAuth2Authentication().authenticate(Request(request))
    assert isinstance(user, AnonymousUser)
    assert auth.is_client_credentials


def test_client_credentials_token_reaches_scoped_view(api, db):
    token = factories.AccessTokenFactory(user=None)
    response = api.get("/api/read/", **bearer(token.value))
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert response.json()["client_credentials"] is True


def test_invalid_token_is_401_even_when_session_authentication_is_first(api, db):
    response = api.get("/api/session-first/", **bearer(tokens.generate("ofat")))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_invalid_token_never_reaches_the_next_authenticator(user, db):
    api = APIClient()
    api.force_login(user)  # a valid session must not rescue a refused token
    response = api.get("/api/session-or-token/", **bearer(tokens.generate("ofat")))
    assert response.status_code == 401


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=200) | st.from_regex(r"[Bb]earer +[ -~]{0,80}", fullmatch=True))
def test_hostile_authorization_headers_never_cause_a_server_error(api, db, value):
    response = api.get("/api/read/", HTTP_AUTHORIZATION=value)
    assert response.status_code in (400, 401)
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
