"""require_oauth and ProtectedResourceMixin through Django's test client."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oauthflow import tokens
from oauthflow.models import AccessToken
from oauthflow.resource.decorators import require_oauth
from tests import factories
from tests.conftest import bearer


@pytest.fixture
def web():
    return Client()


@pytest.fixture
def make(db, user, client_app):
    def make(scope, **kwargs):
        kwargs.setdefault("user", user)
        return factories.AccessTokenFactory(client=client_app, scope=scope, **kwargs).value

    return make


PLAIN_VIEWS = ["/plain/read/", "/plain/async/", "/plain/async-class/"]


@pytest.mark.parametrize("path", PLAIN_VIEWS)
def test_valid_token_runs_the_view_as_its_user(web, access_token, path):
    response = web.get(path, **bearer(access_token.value))
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["scopes"] == ["read"]


def test_one_query_per_request(web, access_token, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert web.get("/plain/read/", **bearer(access_token.value)).status_code == 200


@pytest.mark.parametrize("path", [*PLAIN_VIEWS, "/plain/write/"])
def test_no_token_is_401_with_bare_challenge(web, db, path):
    response = web.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "error": "missing_authorization",
        "error_description": "An access token is required.",
    }


@pytest.mark.parametrize("path", PLAIN_VIEWS)
def test_unknown_token_is_401_invalid_token(web, db, path):
    response = web.get(path, **bearer(tokens.generate("ofat")))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token is unknown."'
    )
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token is unknown.",
    }


def test_revoked_token_is_401(web, access_token):
    AccessToken.objects.filter(pk=access_token.pk).revoke()
    response = web.get("/plain/read/", **bearer(access_token.value))
    assert response.status_code == 401
    assert response.json()["error_description"] == "The access token was revoked."


def test_inactive_user_token_is_401(web, access_token):
    access_token.user.is_active = False
    access_token.user.save()
    assert web.get("/plain/read/", **bearer(access_token.value)).status_code == 401


@pytest.mark.parametrize("path", [*PLAIN_VIEWS, "/plain/write/"])
def test_missing_scope_is_403_with_insufficient_scope(web, make, path):
    response = web.get(path, **bearer(make("profile")))
    assert response.status_code == 403
    scope = "write" if path == "/plain/write/" else "read"
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        f'error_description="The access token lacks a required scope.", scope="{scope}"'
    )
    assert response.json()["error"] == "insufficient_scope"


def test_every_scope_is_needed(web, make):
    assert web.get("/plain/read-profile/", **bearer(make("read"))).status_code == 403
    assert web.get("/plain/read-profile/", **bearer(make("read profile"))).status_code == 200


def test_empty_scopes_accept_any_valid_token(web, make):
    assert web.get("/plain/any-token/", **bearer(make(""))).status_code == 200


def test_malformed_header_is_401_invalid_token(web, db):
    response = web.get("/plain/read/", HTTP_AUTHORIZATION="Bearer a b c")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_query_parameter_is_ignored(web, access_token):
    assert web.get("/plain/read/", {"access_token": access_token.value}).status_code == 401


def test_post_needs_no_csrf_token(make):
    web = Client(enforce_csrf_checks=True)
    response = web.post("/plain/write/", {"x": "1"}, **bearer(make("write")))
    assert response.status_code == 200


def test_token_user_replaces_the_session_user(make, db):
    other = factories.UserFactory(username="bob")
    web = Client()
    web.force_login(other)
    response = web.get("/plain/read/", **bearer(make("read")))
    assert response.json()["user"] == "alice"


def test_session_alone_is_not_enough(db):
    web = Client()
    web.force_login(factories.UserFactory(username="bob"))
    assert web.get("/plain/read/").status_code == 401


def test_client_credentials_token_runs_as_anonymous(web, make):
    response = web.get("/plain/read/", **bearer(make("read", user=None)))
    assert response.status_code == 200
    assert response.json()["user"] is None
    assert response.json()["client_credentials"] is True


def test_mixin_without_required_scopes_is_improperly_configured(web, make):
    with pytest.raises(ImproperlyConfigured, match="required_scopes"):
        web.get("/plain/misconfigured/", **bearer(make("read")))


def test_decorator_needs_scopes():
    with pytest.raises(TypeError):
        require_oauth()
    with pytest.raises(ImproperlyConfigured):
        require_oauth(scopes=None)


def test_form_body_token_when_allowed(make, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_FORM_BODY_TOKEN": True}
    value = make("write")
    web = Client()
    body = f"access_token={value}"
    form = "application/x-www-form-urlencoded"
    assert web.post("/plain/write/", body, content_type=form).status_code == 200
    both = web.post("/plain/write/", body, content_type=form, **bearer(value))
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=200) | st.from_regex(r"[Bb]earer +[ -~]{0,80}", fullmatch=True))
def test_hostile_authorization_headers_never_cause_a_server_error(web, db, value):
    response = web.get("/plain/read/", HTTP_AUTHORIZATION=value)
    assert response.status_code in (400, 401)
