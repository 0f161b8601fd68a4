"""Resource indicators (RFC 8707) at the authorization and token endpoints."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from joserfc import jwt

from oauthflow.models import AccessToken, Resource
from tests import factories
from tests.jwt.helpers import API, OTHER_API, client_credentials
from tests.oauth_helpers import (
    authorize_url,
    basic,
    exchange,
    get_code,
    new_verifier,
    post_form,
    query_of,
    token_request,
)
from tests.oidc.helpers import jwks


def claims(http, value):
    return jwt.decode(value, jwks(http)).claims


def both_resources(http, machine):
    """A client_credentials request naming API and OTHER_API (a repeated parameter)."""
    body = [("grant_type", "client_credentials"), ("resource", API), ("resource", OTHER_API)]
    return post_form(
        http, "/oauth/token/", body, HTTP_AUTHORIZATION=basic(machine.client_id, machine.secret)
    )


def authorize_both(http, app, verifier, **params) -> str:
    """The code of an authorization for API and OTHER_API, consented on its page."""
    url = (
        authorize_url(app, verifier=verifier, **params)
        + "&"
        + urlencode([("resource", API), ("resource", OTHER_API)])
    )
    assert http.get(url).status_code == 200  # the consent page
    return query_of(http.post(url, {"decision": "allow"})["Location"])["code"]


def test_client_credentials_for_a_jwt_resource(client, machine):
    response = client_credentials(client, machine, resource=API, scope="read")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["expires_in"] == 300 and body["token_type"] == "Bearer"
    decoded = jwt.decode(body["access_token"], jwks(client))
    assert decoded.header["typ"] == "at+jwt" and decoded.header["alg"] == "RS256"
    c = decoded.claims
    assert c["aud"] == API and c["client_id"] == machine.client_id == c["sub"]
    assert c["scope"] == "read" and c["exp"] - c["iat"] == 300 and c["jti"]
    assert c["iss"] == "http://testserver"
    row = AccessToken.objects.get()
    assert row.resource == API  # the digest is stored: revocation and introspection work


def test_no_resource_means_an_opaque_token_as_before(client, machine):
    body = client_credentials(client, machine, scope="read").json()
    assert body["access_token"].startswith("ofat_")
    assert AccessToken.objects.get().resource == ""


@pytest.mark.parametrize(
    "resource",
    [
        OTHER_API,  # unknown
        "not-a-uri",
        "https://api.example.com/#fragment",
        "/relative",
        "https://" + "x" * 300 + ".example.com/",
    ],
)
def test_unknown_or_malformed_resources_are_invalid_target(client, machine, resource):
    response = client_credentials(client, machine, resource=resource)
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"
    assert not AccessToken.objects.exists()


def test_a_resource_not_allowed_for_the_client_is_invalid_target(client, api_resource):
    stranger = factories.ClientFactory(grant_types="client_credentials")
    response = client_credentials(client, stranger, resource=API)
    assert response.json()["error"] == "invalid_target"


def test_an_inactive_resource_is_invalid_target(client, machine, api_resource):
    api_resource.is_active = False
    api_resource.save()
    assert client_credentials(client, machine, resource=API).json()["error"] == "invalid_target"


def test_mixed_formats_in_one_token_are_refused(client, machine):
    opaque = Resource.objects.create(identifier=OTHER_API, name="Other")
    machine.resources.add(opaque)
    response = both_resources(client, machine)
    assert response.json()["error"] == "invalid_target"


def test_a_resource_narrows_the_scope(client, machine, api_resource):
    api_resource.scopes = "read"
    api_resource.save()
    body = client_credentials(client, machine, resource=API, scope="read write").json()
    assert body["scope"] == "read" and claims(client, body["access_token"])["scope"] == "read"
    only_write = client_credentials(client, machine, resource=API, scope="write")
    assert only_write.json()["error"] == "invalid_scope"


def test_the_resource_lifetime_wins(client, machine, api_resource):
    api_resource.access_token_lifetime = 60
    api_resource.save()
    assert (
        client_credentials(client, machine, resource=API, scope="read").json()["expires_in"] == 60
    )


# The code flow -----------------------------------------------------------------------------


@pytest.fixture
def app(api_resource):
    client = factories.ClientFactory()
    client.resources.add(api_resource)
    return client


def test_the_authorization_names_the_resource(signed_in, app, user):
    verifier = new_verifier()
    code = get_code(signed_in, app, verifier=verifier, resource=API)
    body = exchange(signed_in, app, code, verifier).json()
    c = claims(signed_in, body["access_token"])
    assert c["aud"] == API and c["sub"] == user.oauthflow_subject.public
    assert c["sub"] != app.client_id and "auth_time" not in c  # no OpenID sign-in here
    # A refresh stays within the authorization's resources and keeps JWTs.
    refreshed = token_request(
        signed_in, app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    ).json()
    assert claims(signed_in, refreshed["access_token"])["aud"] == API
    assert refreshed["refresh_token"].startswith("ofrt_")  # refresh tokens stay opaque


def test_a_code_exchange_cannot_widen_the_resources(signed_in, app):
    other = Resource.objects.create(identifier=OTHER_API, name="Other", token_format="jwt")
    app.resources.add(other)
    verifier = new_verifier()
    code = get_code(signed_in, app, verifier=verifier, resource=API)
    response = token_request(
        signed_in,
        app,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri_list[0],
            "code_verifier": verifier,
            "resource": OTHER_API,
        },
    )
    assert response.json()["error"] == "invalid_target"


def test_a_refresh_narrows_to_one_resource(signed_in, app):
    other = Resource.objects.create(identifier=OTHER_API, name="Other", token_format="jwt")
    app.resources.add(other)
    verifier = new_verifier()
    code = authorize_both(signed_in, app, verifier)
    first = exchange(signed_in, app, code, verifier).json()
    assert claims(signed_in, first["access_token"])["aud"] == [API, OTHER_API]
    narrowed = token_request(
        signed_in,
        app,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "resource": OTHER_API,
        },
    ).json()
    assert claims(signed_in, narrowed["access_token"])["aud"] == OTHER_API
    # The authorization still covers both: the next refresh may name the other.
    again = token_request(
        signed_in,
        app,
        {
            "grant_type": "refresh_token",
            "refresh_token": narrowed["refresh_token"],
            "resource": API,
        },
    ).json()
    assert claims(signed_in, again["access_token"])["aud"] == API


def test_an_unknown_resource_at_the_authorization_endpoint(signed_in, app):
    response = signed_in.get(authorize_url(app, verifier=new_verifier(), resource=OTHER_API))
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_target" and params["state"] == "xyz-state"


def test_openid_sign_ins_put_auth_time_in_the_jwt(signed_in, app):
    verifier = new_verifier()
    code = get_code(signed_in, app, verifier=verifier, scope="openid read", resource=API)
    body = exchange(signed_in, app, code, verifier).json()
    c = claims(signed_in, body["access_token"])
    id_claims = jwt.decode(body["id_token"], jwks(signed_in)).claims
    assert c["auth_time"] == id_claims["auth_time"] and c["sub"] == id_claims["sub"]


def test_introspection_reports_the_audience(client, machine):
    value = client_credentials(client, machine, resource=API, scope="read").json()["access_token"]
    rs = factories.ClientFactory(may_introspect=True, grant_types="")
    from tests.oauth_helpers import basic

    body = post_form(
        client,
        "/oauth/introspect/",
        {"token": value},
        HTTP_AUTHORIZATION=basic(rs.client_id, rs.secret),
    ).json()
    assert body["active"] and body["aud"] == API and body["client_id"] == machine.client_id


def test_a_resource_s_scope_list_does_not_cost_the_id_token(signed_in, app, api_resource):
    api_resource.scopes = "read"
    api_resource.save()
    verifier = new_verifier()
    code = get_code(signed_in, app, verifier=verifier, scope="openid read", resource=API)
    body = exchange(signed_in, app, code, verifier).json()
    assert body["scope"] == "read" and "id_token" in body


@pytest.mark.parametrize("resource", ["https://[::1/", "HTTPS://API.EXAMPLE.COM/"])
def test_odd_identifiers_are_invalid_target(client, machine, resource):
    response = client_credentials(client, machine, resource=resource, scope="read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"


def test_introspection_answers_for_any_resource_s_jwt(client, machine, settings):
    """Introspection asks the provider's rows, whatever this host's RESOURCE says."""
    value = client_credentials(client, machine, resource=API, scope="read").json()["access_token"]
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "RESOURCE": None}
    rs = factories.ClientFactory(may_introspect=True, grant_types="")
    from tests.oauth_helpers import basic

    body = post_form(
        client,
        "/oauth/introspect/",
        {"token": value},
        HTTP_AUTHORIZATION=basic(rs.client_id, rs.secret),
    ).json()
    assert body["active"] and body["aud"] == API


def test_an_opaque_token_for_another_resource_is_refused_here(client, machine, settings):
    from tests.conftest import bearer

    other = Resource.objects.create(identifier=OTHER_API, name="Other")  # opaque
    machine.resources.add(other)
    value = client_credentials(client, machine, resource=OTHER_API, scope="read").json()
    assert value["access_token"].startswith("ofat_")
    response = client.get("/api/read/", **bearer(value["access_token"]))
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]
    # A token that names no resource works anywhere, as before resources existed.
    plain = client_credentials(client, machine, scope="read").json()["access_token"]
    assert client.get("/api/read/", **bearer(plain)).status_code == 200


def test_a_narrowed_code_exchange_keeps_the_authorization_s_scope(signed_in, app, api_resource):
    other = Resource.objects.create(identifier=OTHER_API, name="Other", token_format="jwt")
    app.resources.add(other)
    api_resource.scopes = "read"
    api_resource.save()
    verifier = new_verifier()
    code = authorize_both(signed_in, app, verifier, scope="read write")
    first = token_request(
        signed_in,
        app,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri_list[0],
            "code_verifier": verifier,
            "resource": API,
        },
    ).json()
    assert first["scope"] == "read"
    later = token_request(
        signed_in,
        app,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "resource": OTHER_API,
        },
    ).json()
    assert later["scope"] == "read write"


def test_a_jwt_needs_a_resource(client, machine):
    from oauthflow.adapter import DefaultAdapter

    class JWTForAll(DefaultAdapter):
        def get_access_token_format(self, **kwargs):
            return "jwt"

    from unittest import mock

    with mock.patch("oauthflow.server.authorization_server.get_adapter", return_value=JWTForAll()):
        response = client_credentials(client, machine, scope="read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"


def test_a_resource_may_take_es256(client, machine, api_resource):
    api_resource.signing_alg = "ES256"
    api_resource.save()
    value = client_credentials(client, machine, resource=API, scope="read").json()
    decoded = jwt.decode(value["access_token"], jwks(client), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256" and decoded.header["typ"] == "at+jwt"
    from tests.conftest import bearer

    assert client.get("/api/read/", **bearer(value["access_token"])).status_code == 200


def test_resources_signed_differently_cannot_share_a_token(client, machine):
    other = Resource.objects.create(
        identifier=OTHER_API, name="Other", token_format="jwt", signing_alg="ES256"
    )
    machine.resources.add(other)
    response = both_resources(client, machine)
    assert response.json()["error"] == "invalid_target"
