"""oauthflow's sign-in page, and the system checks on the site around oauthflow."""

from __future__ import annotations

import pytest
from django.test import override_settings

from oauthflow.models import Resource
from oauthflow.site_checks import (
    check_client_scopes,
    check_issuer_host,
    check_jwt_revocation,
    check_login_url,
)
from tests import factories
from tests.oauth_helpers import authorize_url, new_verifier


def ids(messages) -> list[str]:
    return [m.id for m in messages]


# The sign-in page ---------------------------------------------------------------------------


@override_settings(LOGIN_URL="oauthflow:login")
def test_an_authorization_request_goes_through_oauthflows_sign_in_page(client, user, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    to_login = client.get(url)
    assert to_login.status_code == 302 and to_login["Location"].startswith("/oauth/login/?next=")
    page = client.get(to_login["Location"])
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert page["X-Frame-Options"] == "DENY"
    assert 'name="password"' in page.content.decode()
    signed_in = client.post(
        "/oauth/login/",
        {"username": "alice", "password": "correct horse battery staple", "next": url},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == url
    assert client.get(url).status_code == 200  # the consent page


def test_a_wrong_password_is_said_plainly(client, user):
    page = client.post("/oauth/login/", {"username": "alice", "password": "nope"})
    assert page.status_code == 200
    assert "didn&#x27;t match" in page.content.decode() or "didn't match" in page.content.decode()


def test_next_to_another_site_is_not_followed(client, user):
    response = client.post(
        "/oauth/login/",
        {
            "username": "alice",
            "password": "correct horse battery staple",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and "evil.example" not in response["Location"]


# LOGIN_URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login_url", ["oauthflow:login", "/accounts/login/", "https://sso.example/"]
)
def test_a_login_url_that_resolves_passes(settings, login_url):
    settings.LOGIN_URL = login_url
    assert check_login_url() == []


def test_a_login_url_naming_nothing_is_an_error(settings):
    """The quick start's old LOGIN_URL = "login" on a fresh project: a 500 at the first
    authorization request, now said at start-up."""
    settings.LOGIN_URL = "login-that-does-not-exist"
    assert ids(check_login_url()) == ["oauthflow.E010"]


def test_a_login_path_nothing_serves_is_a_warning(settings):
    settings.LOGIN_URL = "/nowhere/login/"
    assert ids(check_login_url()) == ["oauthflow.W006"]


# ISSUER and ALLOWED_HOSTS -------------------------------------------------------------------


def test_an_issuer_on_another_host_is_a_warning(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://auth.example.com"}
    assert ids(check_issuer_host()) == ["oauthflow.W005"]
    settings.ALLOWED_HOSTS = [".example.com"]
    assert check_issuer_host() == []


def test_in_debug_with_no_allowed_hosts_django_allows_localhost(settings):
    settings.DEBUG, settings.ALLOWED_HOSTS = True, []
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "http://127.0.0.1:8000"}
    assert check_issuer_host() == []
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://auth.example.com"}
    assert ids(check_issuer_host()) == ["oauthflow.W005"]


def test_no_issuer_is_not_this_checks_business(settings):
    settings.OAUTHFLOW = {k: v for k, v in settings.OAUTHFLOW.items() if k != "ISSUER"}
    assert check_issuer_host() == []


# Scopes clients still list ------------------------------------------------------------------


def test_clients_naming_a_removed_scope_are_a_warning(db, settings):
    factories.ClientFactory(name="Printer", allowed_scopes="read write")
    factories.ClientFactory(name="Other", allowed_scopes="read")
    assert check_client_scopes() == []
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SCOPES": {"read": "Read your data"}}
    [warning] = check_client_scopes()
    assert warning.id == "oauthflow.W007" and "'Printer'" in warning.msg
    assert "'Other'" not in warning.msg


def test_before_migrate_there_is_nothing_to_check():
    """No database access allowed here: the check must not fail the command."""
    from unittest import mock

    from django.db import DatabaseError

    with mock.patch("oauthflow.models.Client.objects.values_list", side_effect=DatabaseError):
        assert check_client_scopes() == []


# JWT access tokens no revocation reaches ----------------------------------------------------


def jwt_resource(identifier="https://api.example.com/", **fields):
    fields = {"name": identifier, "token_format": "jwt", **fields}
    return Resource.objects.create(identifier=identifier, **fields)


@pytest.fixture
def no_token_cache(settings):
    settings.OAUTHFLOW = {k: v for k, v in settings.OAUTHFLOW.items() if k != "TOKEN_CACHE"}


def test_a_jwt_resource_without_a_token_cache_is_a_warning(db, no_token_cache):
    assert check_jwt_revocation() == []  # no resource
    jwt_resource()
    [warning] = check_jwt_revocation()
    assert warning.id == "oauthflow.W009"
    assert warning.msg == (
        "1 active resource takes JWT access tokens (https://api.example.com/) and "
        "OAUTHFLOW['TOKEN_CACHE'] is not set: a revoked JWT access token stays valid until "
        "it expires, up to 300 seconds after it was issued (JWT_ACCESS_TOKEN_LIFETIME; no "
        "resource sets a lifetime of its own)."
    )
    assert "TOKEN_CACHE" in warning.hint and "shares with the APIs" in warning.hint


def test_the_warning_says_the_longest_lifetime(db, settings, no_token_cache):
    jwt_resource("https://a.example.com/", access_token_lifetime=900)
    jwt_resource("https://b.example.com/", access_token_lifetime=60)
    jwt_resource("https://c.example.com/")
    [warning] = check_jwt_revocation()
    assert warning.msg.startswith("3 active resources take JWT access tokens")
    assert "https://a.example.com/, https://b.example.com/, https://c.example.com/" in warning.msg
    assert "up to 900 seconds" in warning.msg
    assert (
        "JWT_ACCESS_TOKEN_LIFETIME is 300 seconds; the longest lifetime a resource sets is "
        "900 seconds" in warning.msg
    )
    # A setting longer than any resource's own lifetime is the longest.
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "JWT_ACCESS_TOKEN_LIFETIME": 1200}
    [warning] = check_jwt_revocation()
    assert "up to 1200 seconds" in warning.msg
    assert "JWT_ACCESS_TOKEN_LIFETIME is 1200 seconds" in warning.msg


def test_only_active_jwt_resources_count(db, no_token_cache):
    jwt_resource(is_active=False)
    Resource.objects.create(identifier="https://opaque.example.com/", name="Opaque")
    assert check_jwt_revocation() == []


def test_a_token_cache_reaches_the_apis(db, settings):
    jwt_resource()
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    assert check_jwt_revocation() == []
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": None}
    assert [m.id for m in check_jwt_revocation()] == ["oauthflow.W009"]
    # A lifetime of the wrong type is E003's, not this check's.
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "JWT_ACCESS_TOKEN_LIFETIME": "300"}
    assert check_jwt_revocation() == []


def test_many_resources_are_shortened(db, no_token_cache):
    for n in range(7):
        jwt_resource(f"https://api{n}.example.com/")
    [warning] = check_jwt_revocation()
    assert "https://api4.example.com/ …" in warning.msg
    assert "api5" not in warning.msg and warning.msg.startswith("7 active resources")


def test_w009_is_registered_with_django(db, no_token_cache):
    from django.core import checks

    jwt_resource()
    assert "oauthflow.W009" in [m.id for m in checks.run_checks()]


def test_w009_before_migrate_there_is_nothing_to_check(no_token_cache):
    """No database access allowed here: the check must not fail the command."""
    assert check_jwt_revocation() == []
    from unittest import mock

    from django.db import DatabaseError

    with mock.patch("oauthflow.models.Resource.objects.filter", side_effect=DatabaseError):
        assert check_jwt_revocation() == []
