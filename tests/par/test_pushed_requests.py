"""Pushed authorization requests (RFC 9126)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client as Browser
from django.utils import timezone

from oauthflow import tokens
from oauthflow.models import AuthorizationCode
from oauthflow.par.models import PushedRequest
from tests import factories
from tests.command_line import keep_test_connection  # noqa: F401 (an autouse fixture)
from tests.oauth_helpers import (
    AUTHORIZE,
    authorize_params,
    basic,
    exchange,
    new_verifier,
    post_form,
    query_of,
)

pytestmark = pytest.mark.django_db

PAR = "/oauth/par/"


def push(http, client, **overrides):
    data = authorize_params(client, verifier=overrides.pop("verifier", None), **overrides)
    headers = {}
    if client.is_confidential:
        headers["HTTP_AUTHORIZATION"] = basic(client.client_id, client.secret)
    return post_form(http, PAR, data, **headers)


def by_reference(client, request_uri: str, **extra) -> str:
    return (
        AUTHORIZE
        + "?"
        + urlencode({"client_id": client.client_id, "request_uri": request_uri, **extra})
    )


@pytest.fixture
def web(db):
    return factories.ClientFactory()


def test_a_push_gets_a_request_uri(client, web):
    response = push(client, web, verifier=new_verifier())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert body["expires_in"] == 60
    assert response["Cache-Control"] == "no-store"
    row = PushedRequest.objects.get()
    assert row.digest == tokens.digest(body["request_uri"])
    assert body["request_uri"] not in str(PushedRequest.objects.values().get())


def test_the_browser_brings_only_the_reference(client, web, signed_in):
    verifier = new_verifier()
    request_uri = push(client, web, verifier=verifier, state="pushed-state").json()["request_uri"]
    url = by_reference(web, request_uri, state="tampered", scope="write")

    page = signed_in.get(url)
    assert page.status_code == 200
    assert "Read your data" in page.content.decode()  # the pushed scope, not the URL's
    decided = signed_in.post(url, {"decision": "allow"})

    assert decided.status_code == 302
    params = query_of(decided["Location"])
    assert params["state"] == "pushed-state"
    assert exchange(client, web, params["code"], verifier).status_code == 200
    assert AuthorizationCode.objects.get().scope == "read"


def test_a_reference_is_used_once_by_one_browser(client, web, signed_in, user):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]
    url = by_reference(web, request_uri)
    assert signed_in.get(url).status_code == 200
    # A reload in the same browser is fine (RFC 9126 §4)...
    assert signed_in.get(url).status_code == 200

    other = Browser()
    other.force_login(factories.UserFactory(username="mallory"))
    refused = other.get(url)

    assert refused.status_code == 400
    assert "invalid_request_uri" in refused.content.decode()


def test_an_expired_reference_is_refused(client, web, signed_in):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]
    PushedRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = signed_in.get(by_reference(web, request_uri))

    assert response.status_code == 400
    assert "invalid_request_uri" in response.content.decode()


def test_another_clients_reference_is_refused(client, web, signed_in):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]
    other = factories.ClientFactory()

    response = signed_in.get(by_reference(other, request_uri))

    assert response.status_code == 400
    assert PushedRequest.objects.get().used_at is None


@pytest.mark.parametrize(
    "value", ["urn:ietf:params:oauth:request_uri:nope", "https://evil.example/r", ""]
)
def test_an_unknown_reference_is_an_error_page_not_a_redirect(client, web, signed_in, value):
    response = signed_in.get(by_reference(web, value))

    assert response.status_code == 400


def test_errors_at_the_push_are_json_never_a_redirect(client, web):
    response = push(client, web, verifier=new_verifier(), scope="admin")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not PushedRequest.objects.exists()


def test_a_wrong_redirect_uri_is_refused_at_the_push(client, web):
    response = push(client, web, verifier=new_verifier(), redirect_uri="https://evil.example/cb")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_push_needs_client_authentication(client, web):
    data = authorize_params(web, verifier=new_verifier())
    response = post_form(client, PAR, data)

    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_a_push_cannot_name_a_request_uri(client, web):
    response = push(client, web, verifier=new_verifier(), request_uri="urn:x")

    assert response.json()["error"] == "invalid_request"


def test_a_public_client_pushes_with_its_client_id(client):
    app = factories.PublicClientFactory()

    response = push(client, app, verifier=new_verifier())

    assert response.status_code == 201


def test_a_client_that_requires_par_is_refused_without(client, signed_in):
    strict = factories.ClientFactory(require_pushed_authorization_requests=True)
    from tests.oauth_helpers import authorize_url

    response = signed_in.get(authorize_url(strict, verifier=new_verifier()))

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    request_uri = push(client, strict, verifier=new_verifier()).json()["request_uri"]
    assert signed_in.get(by_reference(strict, request_uri)).status_code == 200


def test_the_site_can_require_par(client, web, signed_in, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    from tests.oauth_helpers import authorize_url

    response = signed_in.get(authorize_url(web, verifier=new_verifier()))

    assert query_of(response["Location"])["error"] == "invalid_request"
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["require_pushed_authorization_requests"] is True


@pytest.mark.parametrize(
    "document", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_both_metadata_documents_advertise_the_endpoint(client, document):
    body = client.get(document).json()

    assert body["pushed_authorization_request_endpoint"] == "http://testserver/oauth/par/"
    assert "require_pushed_authorization_requests" not in body


def test_sign_in_comes_back_to_the_reference(client, web, user):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]
    browser = Browser()

    first = browser.get(by_reference(web, request_uri))
    assert first.status_code == 302 and "request_uri" in first["Location"]
    assert "redirect_uri" not in first["Location"]  # the pushed parameters stay out of URLs
    browser.force_login(user)

    assert browser.get(by_reference(web, request_uri)).status_code == 200


def test_cleartokens_clears_expired_pushed_requests(client, web):
    from oauthflow.store.cleanup import clear_tokens

    push(client, web, verifier=new_verifier())
    assert clear_tokens()["pushed_requests"] == 0
    PushedRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert clear_tokens()["pushed_requests"] == 1


def test_oauthflow_client_and_the_admin_set_par_only(admin_client, capsys):
    from django.urls import reverse

    from oauthflow.models import Client
    from tests.command_line import run_command_json

    data = run_command_json(
        capsys,
        "oauthflow_client",
        "create",
        "--name",
        "Bank app",
        "--redirect-uri",
        "https://bank.example/cb",
        "--require-par",
    )
    created = Client.objects.get(client_id=data["client_id"])
    assert created.require_pushed_authorization_requests
    assert data["require_pushed_authorization_requests"] is True
    page = admin_client.get(reverse("admin:oauthflow_client_change", args=[created.pk]))
    assert 'name="require_pushed_authorization_requests"' in page.content.decode()
