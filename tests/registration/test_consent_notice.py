"""The consent page warns about a client that registered itself: its name and logo are
its own claims, and nobody at the site checked them."""

from __future__ import annotations

from oauthflow.models import Client
from tests import factories
from tests.oauth_helpers import authorize_url, new_verifier

from .conftest import NATIVE_APP, WEB_APP, register

WARNING = "This app registered itself"


def consent_page(http, client):
    page = http.get(authorize_url(client, verifier=new_verifier()))
    assert page.status_code == 200, page.content
    return page.content.decode()


def test_a_self_registered_client_is_marked_on_the_consent_page(client, signed_in, initial_token):
    registered = Client.objects.get(client_id=register(client, WEB_APP, initial_token)["client_id"])
    html = consent_page(signed_in, registered)
    assert WARNING in html
    assert 'role="note"' in html and "printer.example" in html


def test_a_native_app_is_named_by_its_scheme(client, signed_in, initial_token):
    document = {**NATIVE_APP, "redirect_uris": ["com.example.app:/oauth"]}
    registered = Client.objects.get(
        client_id=register(client, document, initial_token)["client_id"]
    )
    assert "com.example.app" in consent_page(signed_in, registered)


def test_a_client_made_by_staff_is_not(signed_in, db):
    assert WARNING not in consent_page(signed_in, factories.ClientFactory())
