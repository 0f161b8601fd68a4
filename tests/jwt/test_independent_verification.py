"""The provider's JWT access tokens, verified by another library (PyJWT) with nothing
but what the provider publishes: its JWKS and its issuer. RFC 9068 §2.1 (header ``typ``
``at+jwt``, an asymmetric ``alg``), §2.2 (the required claims), §4 (what a resource
server checks: ``iss``, ``aud``, ``exp``, the signature)."""

from __future__ import annotations

import jwt
import pytest
import requests

from oauthflow import formats
from oauthflow.adapter import DefaultAdapter, get_adapter
from oauthflow.formats.jwt import JWTFormat
from oauthflow.models import Resource
from oauthflow.settings import oauthflow_settings
from tests import factories
from tests.conftest import bearer
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

API = "https://api.example.com/"
OTHER_API = "https://other.example.com/"
#: RFC 9068 §2.2: every JWT access token carries these.
REQUIRED = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
TEST_ISSUER = "http://testserver"  # ISSUER unset: the issuer follows the request's host


def verify(
    token: str, jwks: dict, issuer: str, audience: str = API, *, leeway: float = 0, **options
) -> dict:
    """The claims, if PyJWT accepts ``token`` as an RFC 9068 access token for ``audience``."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    # The algorithm the key is published for, never the one the token asks for.
    assert header["alg"] == key.algorithm_name
    return jwt.decode(
        token,
        key=key,
        algorithms=[key.algorithm_name],
        audience=audience,
        issuer=issuer,
        options={"require": REQUIRED, **options},
        leeway=leeway,
    )


def served_jwks(http) -> dict:
    response = http.get("/oauth/jwks/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def resources(db):
    return {
        identifier: Resource.objects.create(
            identifier=identifier, name=identifier, token_format="jwt"
        )
        for identifier in (API, OTHER_API)
    }


@pytest.fixture
def machine(resources):
    client = factories.ClientFactory(grant_types="client_credentials")
    client.resources.add(*resources.values())
    return client


def client_credentials(http, client, **data) -> str:
    response = token_request(http, client, {"grant_type": "client_credentials", **data})
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_a_client_credentials_token_verifies_with_pyjwt(client, machine):
    token = client_credentials(client, machine, scope="read", resource=API)
    claims = verify(token, served_jwks(client), TEST_ISSUER)

    assert set(claims) == {*REQUIRED, "scope"}  # nothing about a user: there is none
    # RFC 9068 §2.2: a token for the client itself has the client as its subject.
    assert claims["sub"] == claims["client_id"] == machine.client_id
    assert claims["aud"] == API
    assert claims["scope"] == "read"
    assert claims["exp"] - claims["iat"] == oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    # jti: a new one for every token.
    again_token = client_credentials(client, machine, scope="read", resource=API)
    again = verify(again_token, served_jwks(client), TEST_ISSUER)
    assert again["jti"] != claims["jti"]


def test_pyjwt_refuses_it_for_another_audience_issuer_or_after_exp(client, machine):
    token = client_credentials(client, machine, scope="read", resource=OTHER_API)
    jwks = served_jwks(client)
    assert verify(token, jwks, TEST_ISSUER, audience=OTHER_API)["aud"] == OTHER_API
    with pytest.raises(jwt.InvalidAudienceError):
        verify(token, jwks, TEST_ISSUER, audience=API)
    with pytest.raises(jwt.InvalidIssuerError):
        verify(token, jwks, "https://another-issuer.example", audience=OTHER_API)
    # As if the clock had reached exp: a negative leeway moves PyJWT's "now" there (for
    # exp; iat, which that would put in the future, is not checked this once).
    claims = verify(token, jwks, TEST_ISSUER, audience=OTHER_API)
    lifetime = claims["exp"] - claims["iat"]
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token, jwks, TEST_ISSUER, audience=OTHER_API, leeway=-lifetime, verify_iat=False)


def user_tokens(http, app, user, scope: str) -> dict:
    """The token response of the authorization code flow for ``user``, resource ``API``."""
    http.force_login(user)
    verifier = new_verifier()
    code = get_code(http, app, verifier=verifier, scope=scope, resource=API)
    response = exchange(http, app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_user_token_has_the_users_subject(client, resources):
    app = factories.ClientFactory()
    app.resources.add(resources[API])
    user = factories.UserFactory(username="alice")
    body = user_tokens(client, app, user, "openid read")
    jwks = served_jwks(client)
    claims = verify(body["access_token"], jwks, TEST_ISSUER)

    assert claims["sub"] == get_adapter().get_subject(user)
    assert claims["sub"] != app.client_id
    assert claims["client_id"] == app.client_id
    assert claims["aud"] == API
    assert claims["scope"] == "openid read"
    # RFC 9068 §2.2.1: when the user signed in (known here from the OpenID sign-in).
    assert isinstance(claims["auth_time"], int)
    assert claims["auth_time"] <= claims["iat"]
    # The ID token, for the client, names the same user.
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["sub"] == claims["sub"]

    # A refresh names no resource: the token is for what the authorization was for.
    refreshed = token_request(
        client, app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.content
    again = verify(refreshed.json()["access_token"], jwks, TEST_ISSUER)
    assert (again["sub"], again["aud"], again["client_id"]) == (
        claims["sub"],
        API,
        app.client_id,
    )
    assert again["jti"] != claims["jti"]


def test_a_pairwise_client_does_not_learn_the_public_subject(client, resources):
    app = factories.ClientFactory(subject_type="pairwise")
    app.resources.add(resources[API])
    user = factories.UserFactory(username="alice")
    body = user_tokens(client, app, user, "openid read")
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    public = get_adapter().get_subject(user)
    assert id_token["sub"] != public  # the ID token keeps the promise
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] != public


@pytest.mark.live
def test_pyjwt_finds_the_keys_from_the_metadata_alone(live_server, transactional_db):
    """Over HTTP as a real API would: issuer -> RFC 8414 metadata -> jwks_uri ->
    ``PyJWKClient``."""
    resource = Resource.objects.create(identifier=API, name="API", token_format="jwt")
    machine = factories.ClientFactory(grant_types="client_credentials")
    machine.resources.add(resource)
    issuer = live_server.url
    response = requests.post(
        issuer + "/oauth/token/",
        data={"grant_type": "client_credentials", "scope": "read", "resource": API},
        auth=(machine.client_id, machine.secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]

    metadata = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == issuer
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key=signing_key,
        algorithms=[signing_key.algorithm_name],
        audience=API,
        issuer=issuer,
        options={"require": REQUIRED},
    )
    assert claims["sub"] == claims["client_id"] == machine.client_id


# ES256: no setting chooses it; a format of the site's own can ----------------------------


class ES256JWTFormat(JWTFormat):
    """JWT access tokens signed with ES256 (the built-in format always signs RS256)."""

    name = "jwt-es256"

    def generate(self, **kwargs):
        return super().generate(**{**kwargs, "alg": "ES256"})


class ES256Adapter(DefaultAdapter):
    def get_access_token_format(self, **kwargs):
        name = super().get_access_token_format(**kwargs)
        return ES256JWTFormat.name if name == JWTFormat.name else name


@pytest.fixture
def es256(settings):
    formats.register(ES256JWTFormat())
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "ADAPTER": f"{__name__}.ES256Adapter",
        "RESOURCE": API,
    }
    yield
    formats.unregister(ES256JWTFormat.name)


def test_es256_tokens_through_a_format_of_the_sites_own(client, machine, es256):
    token = client_credentials(client, machine, scope="read", resource=API)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    jwks = served_jwks(client)
    claims = verify(token, jwks, TEST_ISSUER)
    assert claims["sub"] == machine.client_id
    assert {k["alg"] for k in jwks["keys"]} == {"ES256"}  # made on first use
    # oauthflow's own verification accepts ES256 too.
    assert client.get("/api/read/", **bearer(token)).status_code == 200


def test_a_self_contained_format_of_the_sites_own_lives_as_long_as_a_jwt(client, machine, es256):
    token = client_credentials(client, machine, scope="read", resource=API)
    claims = verify(token, served_jwks(client), TEST_ISSUER)
    assert claims["exp"] - claims["iat"] == oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME
