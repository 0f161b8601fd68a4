"""oauthflow's sign-in page, and the system checks on the site around oauthflow."""

from __future__ import annotations

import pytest
from django.test import override_settings

from oauthflow.site_checks import check_client_scopes, check_issuer_host, check_login_url
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
