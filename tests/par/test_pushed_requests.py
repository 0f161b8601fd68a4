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


# What a security review found ------------------------------------------------------------


def test_without_a_resolver_request_uri_is_not_supported_and_par_only_clients_are_refused(
    client, signed_in, monkeypatch
):
    from oauthflow.server.registry import registry

    strict = factories.ClientFactory(require_pushed_authorization_requests=True)
    request_uri = push(client, strict, verifier=new_verifier()).json()["request_uri"]
    monkeypatch.setattr(registry, "_request_uri_resolver", None)  # oauthflow.par not installed
    from tests.oauth_helpers import authorize_url

    assert signed_in.get(by_reference(strict, request_uri)).status_code == 400
    plain = signed_in.get(authorize_url(strict, verifier=new_verifier()))
    assert query_of(plain["Location"])["error"] == "invalid_request"


def test_par_only_is_refused_before_sign_in(web, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    from tests.oauth_helpers import authorize_url

    response = Browser().get(authorize_url(web, verifier=new_verifier(), prompt="none"))

    assert query_of(response["Location"])["error"] == "invalid_request"


def test_a_pushed_login_hint_stays_out_of_the_login_url(client, web):
    request_uri = push(
        client, web, verifier=new_verifier(), login_hint="alice.secret@example.com"
    ).json()["request_uri"]

    response = Browser().get(by_reference(web, request_uri))

    assert response.status_code == 302
    assert "login_hint" not in response["Location"] and "secret" not in response["Location"]


def test_the_session_holds_no_parameters(client, web, signed_in):
    request_uri = push(client, web, verifier=new_verifier(), state="s3cret-state").json()[
        "request_uri"
    ]
    signed_in.get(by_reference(web, request_uri))

    held = signed_in.session["oauthflow_par"]
    assert list(held) == [tokens.digest(request_uri)]
    assert "s3cret-state" not in str(dict(signed_in.session))


def test_after_the_answer_a_reload_gets_no_second_code(client, web, signed_in, committed):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]
    url = by_reference(web, request_uri)
    signed_in.get(url)
    with committed():
        assert signed_in.post(url, {"decision": "allow"}).status_code == 302

    again = signed_in.get(url)

    assert again.status_code == 400
    assert AuthorizationCode.objects.count() == 1


def test_head_does_not_use_the_reference_up(client, web, signed_in):
    request_uri = push(client, web, verifier=new_verifier()).json()["request_uri"]

    assert signed_in.head(by_reference(web, request_uri)).status_code == 400
    assert PushedRequest.objects.get().used_at is None
    assert signed_in.get(by_reference(web, request_uri)).status_code == 200


def test_a_push_needs_its_client_id(client, web):
    data = {
        k: v for k, v in authorize_params(web, verifier=new_verifier()).items() if k != "client_id"
    }

    response = post_form(client, PAR, data, HTTP_AUTHORIZATION=basic(web.client_id, web.secret))

    assert response.json()["error"] == "invalid_request"


def test_a_request_object_is_not_supported_at_the_push(client, web):
    response = push(client, web, verifier=new_verifier(), request="eyJ.eyJ.sig")

    assert response.json()["error"] == "request_not_supported"


def test_a_huge_push_is_refused(client, web):
    junk = {f"x{n}": "y" * 4000 for n in range(10)}

    response = push(client, web, verifier=new_verifier(), **junk)

    assert response.json()["error"] == "invalid_request"
    assert not PushedRequest.objects.exists()


def test_a_dpop_proof_at_the_push_binds_the_code(client, web, signed_in):
    from tests.dpop.helpers import DPoPKey

    key = DPoPKey()
    data = authorize_params(web, verifier=(verifier := new_verifier()))
    response = post_form(
        client,
        PAR,
        data,
        HTTP_AUTHORIZATION=basic(web.client_id, web.secret),
        HTTP_DPOP=key.proof("http://testserver/oauth/par/"),
    )
    request_uri = response.json()["request_uri"]
    url = by_reference(web, request_uri)
    signed_in.get(url)
    code = query_of(signed_in.post(url, {"decision": "allow"})["Location"])["code"]

    assert AuthorizationCode.objects.get().dpop_jkt == key.jkt
    assert exchange(client, web, code, verifier).json()["error"] == "invalid_grant"


def test_a_dpop_proof_disagreeing_with_dpop_jkt_is_refused(client, web):
    from tests.dpop.helpers import DPoPKey

    key, other = DPoPKey(), DPoPKey()
    data = authorize_params(web, verifier=new_verifier(), dpop_jkt=other.jkt)
    response = post_form(
        client,
        PAR,
        data,
        HTTP_AUTHORIZATION=basic(web.client_id, web.secret),
        HTTP_DPOP=key.proof("http://testserver/oauth/par/"),
    )

    assert response.json()["error"] == "invalid_dpop_proof"
    assert not PushedRequest.objects.exists()


def test_a_malformed_dpop_jkt_is_refused_at_the_push(client, web):
    response = push(client, web, verifier=new_verifier(), dpop_jkt="short")

    assert response.json()["error"] == "invalid_request"


def test_an_error_redirect_also_ends_the_pushed_request(client, web, user):
    request_uri = push(client, web, verifier=new_verifier(), prompt="none").json()["request_uri"]
    browser = Browser()
    first = browser.get(by_reference(web, request_uri))
    assert query_of(first["Location"])["error"] == "login_required"
    browser.force_login(user)

    again = browser.get(by_reference(web, request_uri))

    assert again.status_code == 400
    assert not AuthorizationCode.objects.exists()
