"""The user's "authorized apps" page: list and withdraw."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from oauthflow.models import AccessToken, Consent, RefreshToken
from tests import factories
from tests.oauth_helpers import authorize_url, exchange, get_code, new_verifier, token_request

URL = "/oauth/authorized-apps/"


def authorize_and_exchange(http, client_app, scope="read"):
    verifier = new_verifier()
    code = get_code(http, client_app, verifier=verifier, scope=scope)
    return exchange(http, client_app, code, verifier).json()


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_lists_each_authorized_app_with_scopes(client, user):
    client.force_login(user)
    printer = factories.ClientFactory(name="Photo Printer")
    first_party = factories.ClientFactory(name="Our Mobile App", skip_consent=True)
    authorize_and_exchange(client, printer, scope="read profile")
    authorize_and_exchange(client, first_party)
    factories.ClientFactory(name="Never Used")
    html = client.get(URL).content.decode()
    assert "Photo Printer" in html
    assert "See your name and email address" in html
    assert "Our Mobile App" in html  # no consent row, but live tokens
    assert "Never Used" not in html
    assert "last used just now" in html  # not "0 minutes ago"


def test_an_app_used_a_while_ago_says_how_long_ago(client, user):
    from datetime import timedelta

    from django.utils import timezone

    from oauthflow.models import AccessToken, RefreshToken

    client.force_login(user)
    printer = factories.ClientFactory(name="Photo Printer")
    authorize_and_exchange(client, printer)
    for model in (AccessToken, RefreshToken):
        model.objects.update(created_at=timezone.now() - timedelta(hours=3))
    html = client.get(URL).content.decode()
    assert "last used 3\xa0hours ago" in html


def test_another_users_apps_are_not_listed(client, user):
    other = factories.UserFactory(username="bob")
    factories.ConsentFactory(user=other, client=factories.ClientFactory(name="Bob's App"))
    client.force_login(user)
    assert "Bob&#x27;s App" not in client.get(URL).content.decode()


def test_revoke_withdraws_tokens_and_consent(client, user):
    client.force_login(user)
    printer = factories.ClientFactory(name="Photo Printer")
    tokens_ = authorize_and_exchange(client, printer)
    other_app = factories.ClientFactory(name="Other")
    authorize_and_exchange(client, other_app)

    response = client.post(URL, {"client_id": printer.client_id})
    assert response.status_code == 302
    assert not Consent.objects.filter(user=user, client=printer).exists()
    assert not AccessToken.objects.filter(client=printer).active().exists()
    assert not RefreshToken.objects.filter(client=printer).active().exists()
    assert AccessToken.objects.filter(client=other_app).active().exists()
    refreshed = token_request(
        client, printer, {"grant_type": "refresh_token", "refresh_token": tokens_["refresh_token"]}
    )
    assert refreshed.json()["error"] == "invalid_grant"
    page = client.get(URL).content.decode()
    assert "Photo Printer can no longer use your account." in page
    # The next authorization asks again.
    assert client.get(authorize_url(printer, verifier=new_verifier())).status_code == 200


def test_revoke_only_touches_the_signed_in_users_tokens(client, user):
    printer = factories.ClientFactory()
    bob = factories.UserFactory(username="bob")
    bobs = factories.AccessTokenFactory(client=printer, user=bob)
    client.force_login(user)
    client.post(URL, {"client_id": printer.client_id})
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_revoke_needs_csrf(user):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    printer = factories.ClientFactory()
    factories.ConsentFactory(user=user, client=printer)
    assert http.post(URL, {"client_id": printer.client_id}).status_code == 403
    assert Consent.objects.filter(user=user).exists()


def test_revoke_unknown_app_is_an_error_page(client, user):
    client.force_login(user)
    assert client.post(URL, {"client_id": "nope"}).status_code == 400


@pytest.mark.parametrize("value", ["\x00", "x" * 5000, "é"])
def test_authorized_apps_rejects_hostile_client_id(signed_in, value):
    assert signed_in.post("/oauth/authorized-apps/", {"client_id": value}).status_code == 400
