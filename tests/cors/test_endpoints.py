"""CORS at each endpoint: who may read what, the refusal of a page its client does not
allow, and hostile headers (never a 500, never a row written)."""

from __future__ import annotations

import pytest

from oauthflow import cors
from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from oauthflow.par.models import PushedRequest
from tests import factories
from tests.conftest import bearer
from tests.oauth_helpers import (
    TOKEN,
    authorize_params,
    basic,
    exchange,
    get_code,
    new_verifier,
    post_form,
)

pytestmark = pytest.mark.django_db

SPA = "https://spa.example"
EVIL = "https://evil.example"
REVOKE = "/oauth/revoke/"
INTROSPECT = "/oauth/introspect/"
USERINFO = "/oauth/userinfo/"
PAR = "/oauth/par/"
DPOP_HEADERS = "content-type, dpop"

#: Origin values no browser sends for the SPA, and some no browser sends at all.
HOSTILE_ORIGINS = [
    "null",
    "",
    SPA + "/",
    SPA + "/cb",
    SPA + ":443",
    "HTTPS://SPA.EXAMPLE",
    SPA + " " + SPA,
    SPA + "\r\nX-Injected: 1",
    SPA + "\x00",
    "https://spä.example",
    "https://" + "a" * 10_000 + ".example",
    "*",
    "https://spa.example.evil.example",
]


@pytest.fixture
def spa(db):
    return factories.PublicClientFactory(
        name="SPA", redirect_uris=SPA + "/callback", allowed_scopes="read openid"
    )


def preflight(http, path: str, origin: str | None = SPA, method: str = "POST", **extra):
    headers = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": method, **extra}
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    return http.options(path, **headers)


def assert_no_cors(response) -> None:
    assert not [h for h in response.headers if h.lower().startswith("access-control-")], dict(
        response.headers
    )


def assert_readable_by(response, origin: str) -> None:
    assert response["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response["Vary"]
    assert "DPoP-Nonce" in response["Access-Control-Expose-Headers"]
    assert "WWW-Authenticate" in response["Access-Control-Expose-Headers"]
    # These endpoints take no cookies: never let a page send them.
    assert "Access-Control-Allow-Credentials" not in response


def redeem(http, client, code: str, verifier: str, origin: str | None):
    extra = {"HTTP_ORIGIN": origin} if origin is not None else {}
    return exchange(http, client, code, verifier, **extra)


def issued_rows() -> tuple[int, int]:
    return AccessToken.objects.count(), RefreshToken.objects.count()


# Preflights ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TOKEN, REVOKE, PAR])
def test_a_preflight_from_an_allowed_origin_is_answered(client, spa, path):
    response = preflight(client, path, HTTP_ACCESS_CONTROL_REQUEST_HEADERS=DPOP_HEADERS)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SPA
    assert response["Access-Control-Allow-Methods"] == "POST"
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "dpop", "authorization"} <= allowed
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", [TOKEN, REVOKE, PAR])
@pytest.mark.parametrize("origin", [EVIL, None, *HOSTILE_ORIGINS])
def test_a_preflight_from_another_origin_gets_no_cors(client, spa, path, origin):
    response = preflight(client, path, origin)
    assert response.status_code == 204
    assert_no_cors(response)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS", "post", "", "P\x00ST"])
def test_a_preflight_for_another_method_gets_no_cors(client, spa, method):
    response = preflight(client, TOKEN, method=method)
    assert response.status_code == 204
    assert_no_cors(response)


def test_an_options_request_that_is_no_preflight_stays_405(client, spa):
    response = client.options(TOKEN, HTTP_ORIGIN=SPA)
    assert response.status_code == 405 and response["Allow"] == "POST"
    # Still readable by the SPA: an error it can show.
    assert response["Access-Control-Allow-Origin"] == SPA
    assert client.get(TOKEN, HTTP_ORIGIN=SPA).status_code == 405


def test_an_inactive_clients_origins_are_not_allowed(client, spa):
    assert preflight(client, TOKEN)["Access-Control-Allow-Origin"] == SPA
    spa.is_active = False
    spa.save()
    cors.forget()  # removals are seen at the next read (test_origins)
    assert_no_cors(preflight(client, TOKEN))


def test_a_confidential_clients_redirect_origins_are_not_allowed(client):
    factories.ClientFactory(redirect_uris="https://web.example/cb")
    assert_no_cors(preflight(client, TOKEN, "https://web.example"))


def test_a_preflight_costs_no_query_once_the_origins_are_read(
    client, spa, django_assert_num_queries
):
    preflight(client, TOKEN)
    with django_assert_num_queries(0):
        assert preflight(client, TOKEN)["Access-Control-Allow-Origin"] == SPA
        assert_no_cors(preflight(client, TOKEN, EVIL))


# The token endpoint ---------------------------------------------------------------------------


def test_the_spa_redeems_its_code_from_its_origin(signed_in, spa):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    response = redeem(signed_in, spa, code, verifier, SPA)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]
    assert_readable_by(response, SPA)


def test_a_request_without_origin_is_not_a_browsers_and_is_served(signed_in, spa):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    response = redeem(signed_in, spa, code, verifier, None)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]


@pytest.mark.parametrize("origin", [EVIL, *HOSTILE_ORIGINS])
def test_a_page_the_client_does_not_allow_is_refused_and_nothing_is_written(signed_in, spa, origin):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    before = issued_rows()
    response = redeem(signed_in, spa, code, verifier, origin)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert "origin" in response.json()["error_description"]
    assert_no_cors(response)
    assert issued_rows() == before
    row = AuthorizationCode.objects.get()
    assert row.revoked_at is None
    # The code was not used up: the app's own page still redeems it.
    assert redeem(signed_in, spa, code, verifier, SPA).status_code == 200


def test_another_public_clients_origin_is_refused(signed_in, spa):
    factories.PublicClientFactory(redirect_uris=EVIL + "/cb")
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    response = redeem(signed_in, spa, code, verifier, EVIL)
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    # The preflight would have passed (some client allows EVIL); the answer may not be
    # read, and nothing was issued.
    assert_no_cors(response)
    assert issued_rows() == (0, 0)


def test_explicit_allowed_origins_replace_the_redirect_uris(signed_in, spa):
    spa.allowed_origins = "https://app.example"
    spa.save()
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    assert redeem(signed_in, spa, code, verifier, SPA).json()["error"] == "invalid_client"
    response = redeem(signed_in, spa, code, verifier, "https://app.example")
    assert response.status_code == 200
    assert_readable_by(response, "https://app.example")


@pytest.mark.parametrize("origin", [EVIL, "https://web.example", SPA])
def test_a_confidential_client_is_refused_from_any_page(client, spa, origin):
    # SPA: an origin another (public) client allows; the refusal is not readable there
    # either.
    # Not even its own redirect URIs' origin: its secret must never be in a page.
    machine = factories.ClientFactory(
        grant_types="client_credentials", redirect_uris="https://web.example/cb"
    )
    data = {"grant_type": "client_credentials", "scope": "read"}
    auth = basic(machine.client_id, machine.secret)
    response = post_form(client, TOKEN, data, HTTP_AUTHORIZATION=auth, HTTP_ORIGIN=origin)
    # Basic credentials: 401 and a challenge (RFC 6749 §5.2).
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
    assert_no_cors(response)
    assert AccessToken.objects.count() == 0
    # From its server (no Origin): served as ever.
    assert post_form(client, TOKEN, data, HTTP_AUTHORIZATION=auth).status_code == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "authorization_code", "code": "ofac_nope"}, "invalid_grant"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code", "client_id": "nobody"}, "invalid_client"),
    ],
)
def test_errors_are_readable_by_an_allowed_origin(client, spa, data, error):
    data = {"client_id": spa.client_id, "redirect_uri": spa.redirect_uri_list[0], **data}
    response = post_form(client, TOKEN, data, HTTP_ORIGIN=SPA)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error
    assert_readable_by(response, SPA)


def test_a_body_that_is_not_a_form_is_an_error_the_spa_can_read(client, spa):
    response = client.post(TOKEN, "{}", content_type="application/json", HTTP_ORIGIN=SPA)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert_readable_by(response, SPA)


def test_errors_are_not_readable_by_other_origins(client, spa):
    response = post_form(client, TOKEN, {"grant_type": "password"}, HTTP_ORIGIN=EVIL)
    assert response.status_code == 400
    assert_no_cors(response)


def test_a_refresh_from_the_spa(signed_in, spa):
    spa.grant_types = "authorization_code refresh_token"
    spa.save()
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    first = redeem(signed_in, spa, code, verifier, SPA).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    refused = post_form(signed_in, TOKEN, {**data, "client_id": spa.client_id}, HTTP_ORIGIN=EVIL)
    assert refused.json()["error"] == "invalid_client"
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 1
    response = post_form(signed_in, TOKEN, {**data, "client_id": spa.client_id}, HTTP_ORIGIN=SPA)
    assert response.status_code == 200, response.content
    assert_readable_by(response, SPA)


# Revocation ----------------------------------------------------------------------------


def _spa_tokens(http, spa) -> dict:
    verifier = new_verifier()
    code = get_code(http, spa, verifier=verifier)
    return redeem(http, spa, code, verifier, SPA).json()


def test_the_spa_revokes_from_its_origin(signed_in, spa):
    body = _spa_tokens(signed_in, spa)
    data = {"token": body["access_token"], "client_id": spa.client_id}
    refused = post_form(signed_in, REVOKE, data, HTTP_ORIGIN=EVIL)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    assert_no_cors(refused)
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()
    response = post_form(signed_in, REVOKE, data, HTTP_ORIGIN=SPA)
    assert response.status_code == 200
    assert_readable_by(response, SPA)
    assert AccessToken.objects.get().revoked_at is not None


# PAR ----------------------------------------------------------------------------


def test_the_spa_pushes_from_its_origin(client, spa):
    data = authorize_params(spa, verifier=new_verifier())
    refused = post_form(client, PAR, data, HTTP_ORIGIN=EVIL)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    assert not PushedRequest.objects.exists()
    response = post_form(client, PAR, data, HTTP_ORIGIN=SPA)
    assert response.status_code == 201
    assert_readable_by(response, SPA)


# UserInfo ----------------------------------------------------------------------------


def test_userinfo_is_readable_by_the_tokens_client_only(signed_in, client, spa):
    factories.PublicClientFactory(redirect_uris=EVIL + "/cb")
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier, scope="openid")
    token = redeem(signed_in, spa, code, verifier, SPA).json()["access_token"]
    mine = client.get(USERINFO, HTTP_ORIGIN=SPA, **bearer(token))
    assert mine.status_code == 200
    assert_readable_by(mine, SPA)
    # EVIL's preflight passes (a client allows it), but not with this token.
    assert preflight(client, USERINFO, EVIL, method="GET")["Access-Control-Allow-Origin"] == EVIL
    theirs = client.get(USERINFO, HTTP_ORIGIN=EVIL, **bearer(token))
    assert theirs.status_code == 200
    assert_no_cors(theirs)


def test_userinfo_challenges_are_readable(client, spa):
    response = client.get(USERINFO, HTTP_ORIGIN=SPA)
    assert response.status_code == 401
    assert_readable_by(response, SPA)
    bad = client.get(USERINFO, HTTP_ORIGIN=SPA, **bearer("ofat_" + "x" * 43))
    assert bad.status_code == 401
    assert_readable_by(bad, SPA)


def test_userinfo_preflight(client, spa):
    response = preflight(
        client, USERINFO, method="GET", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, dpop"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SPA
    assert response["Access-Control-Allow-Methods"] == "GET, POST"
    assert "DPoP" in response["Access-Control-Allow-Headers"]
    for origin in [EVIL, None, *HOSTILE_ORIGINS]:
        assert_no_cors(preflight(client, USERINFO, origin, method="GET"))
    assert_no_cors(preflight(client, USERINFO, method="DELETE"))


# The public documents --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/oauth/jwks/",
    ],
)
@pytest.mark.parametrize("origin", [SPA, EVIL, "null"])
def test_public_documents_are_for_every_page_without_credentials(client, db, path, origin):
    answer = preflight(client, path, origin, method="GET")
    assert answer.status_code == 204
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert "GET" in answer["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in answer
    document = client.get(path, HTTP_ORIGIN=origin)
    assert document.status_code == 200
    assert document["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in document
    # OPTIONS that is not a preflight, and other methods: 405.
    assert client.options(path).status_code == 405
    assert client.post(path, HTTP_ORIGIN=origin).status_code == 405


# No CORS ---------------------------------------------------------------------------------------


def test_introspection_has_no_cors(client, spa):
    assert client.options(INTROSPECT, HTTP_ORIGIN=SPA).status_code == 405
    answer = preflight(client, INTROSPECT)
    assert answer.status_code == 405
    assert_no_cors(answer)
    server = factories.ClientFactory(may_introspect=True)
    response = post_form(
        client,
        INTROSPECT,
        {"token": "ofat_" + "x" * 43},
        HTTP_AUTHORIZATION=basic(server.client_id, server.secret),
        HTTP_ORIGIN=SPA,
    )
    # Not a browser endpoint: no page reads it, and the Origin changes nothing.
    assert response.status_code == 200 and response.json() == {"active": False}
    assert_no_cors(response)


def test_the_authorization_endpoint_is_a_top_level_navigation(signed_in, spa):
    answer = preflight(signed_in, "/oauth/authorize/", method="GET")
    assert answer.status_code < 500
    assert_no_cors(answer)
    params = authorize_params(spa, verifier=new_verifier())
    page = signed_in.get("/oauth/authorize/", params, HTTP_ORIGIN=SPA)
    assert page.status_code == 200
    assert_no_cors(page)


def test_device_authorization_has_no_cors(client, spa):
    answer = preflight(client, "/oauth/device-authorization/")
    assert answer.status_code == 405
    assert_no_cors(answer)
