"""Verifying JWT access tokens on this host: zero queries, every hostile case a 401
``invalid_token`` with the RFC 6750 challenge, revocation through the shared cache."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from oauthflow import keys
from oauthflow.resource import validation
from oauthflow.store.validity import Refusal
from tests.conftest import bearer
from tests.jwt.helpers import API, client_credentials
from tests.oauth_helpers import basic, post_form


@pytest.fixture
def token(client, machine, committed):
    # Committed: a process keeps in memory only signing keys it has seen committed.
    with committed():
        response = client_credentials(client, machine, resource=API, scope="read")
    return response.json()["access_token"]


def _claims(value: str) -> dict:
    payload = value.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _header(value: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(value.split(".")[0] + "=="))


def _resign(value: str, *, header: dict | None = None, key=None, **changes) -> str:
    """The token with its claims changed, signed again with our own key (or ``key``)."""
    claims = {**_claims(value), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    kid = _header(value)["kid"]
    if key is None:
        _kid, key = keys.signing_key("RS256")
    return jwt.encode(header or {"alg": "RS256", "kid": kid, "typ": "at+jwt"}, claims, key)


def test_a_valid_token_costs_no_query(client, token, django_assert_num_queries):
    validation.validate(token)  # this process reads the key table once a minute
    with django_assert_num_queries(0):
        verdict = validation.validate(token)
    assert verdict.scope == "read" and verdict.is_client_credentials


def test_the_protected_view_sees_the_user_and_client(signed_in, user, client_app, api_resource):
    from tests.jwt.helpers import user_token

    client_app.resources.add(api_resource)
    value = user_token(signed_in, client_app).json()["access_token"]
    body = signed_in.get("/api/read/", **bearer(value)).json()
    assert body["user"] == "alice" and body["client_id"] == client_app.client_id
    assert body["client_credentials"] is False


def _refused(client, value) -> None:
    response = client.get("/api/read/", **bearer(value))
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_the_token_itself_is_accepted(client, token):
    assert client.get("/api/read/", **bearer(token)).status_code == 200


def test_alg_none(client, token):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    forged = header.rstrip(b"=").decode() + "." + token.split(".")[1] + "."
    _refused(client, forged)


def test_hs256_with_the_public_key_as_secret(client, token):
    """Algorithm confusion: an HMAC keyed with the published public key."""
    published = client.get("/oauth/jwks/").json()["keys"][0]
    public_pem = RSAKey.import_key(published).as_pem(private=False)
    header = {"alg": "HS256", "kid": published["kid"], "typ": "at+jwt"}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps(header).encode()) + "." + token.split(".")[1]
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused(client, signing_input + "." + b64(mac))


def test_another_audience(client, token):
    _refused(client, _resign(token, aud="https://other.example.com/"))


def test_expired_and_not_yet_valid(client, token):
    now = int(time.time())
    _refused(client, _resign(token, exp=now - 60))
    _refused(client, _resign(token, nbf=now + 3600))
    _refused(client, _resign(token, iat=now + 3600))
    # Within the documented leeway (30 s) both still pass.
    assert client.get("/api/read/", **bearer(_resign(token, exp=now - 10))).status_code == 200


def test_unknown_kid(client, token):
    _kid, key = keys.signing_key("RS256")
    claims = _claims(token)
    _refused(client, jwt.encode({"alg": "RS256", "kid": "nobody", "typ": "at+jwt"}, claims, key))


def test_typ_must_be_at_jwt(client, token):
    kid = _header(token)["kid"]
    for typ in ("JWT", "logout+jwt", None):
        header = {"alg": "RS256", "kid": kid, **({"typ": typ} if typ else {})}
        _refused(client, _resign(token, header=header))


def test_an_id_token_is_not_an_access_token(signed_in, client_app, api_resource):
    from tests.oidc.helpers import sign_in_with_openid

    id_token = sign_in_with_openid(signed_in, client_app)["id_token"]
    _refused(signed_in, id_token)


def test_signed_by_another_issuer(client, token):
    stranger = RSAKey.generate_key(2048)
    _refused(client, _resign(token, key=stranger))
    ec = ECKey.generate_key("P-256")
    kid = _header(token)["kid"]
    _refused(client, _resign(token, key=ec, header={"alg": "ES256", "kid": kid, "typ": "at+jwt"}))


def test_another_issuer_name(client, token, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://auth.example.com"}
    _refused(client, token)  # iss is http://testserver


def test_missing_claims(client, token):
    for claim in ("iss", "exp", "aud", "sub", "client_id", "iat", "jti"):
        _refused(client, _resign(token, **{claim: None}))
    _refused(client, _resign(token, exp="tomorrow"))


@pytest.mark.parametrize(
    "value",
    [
        "eyJ" + "a" * 9000 + ".eyJb.c",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.",
        "eyJ!!.eyJ.x",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        "eyJub3QganNvbg.eyJ4IjoxfQ.c2ln",
    ],
)
def test_oversized_or_malformed(client, machine, value):
    _refused(client, value)


def test_jwts_are_refused_where_no_resource_is_configured(client, token, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "RESOURCE": None}
    assert validation.validate(token) is Refusal.UNKNOWN
    _refused(client, token)


# Revocation ----------------------------------------------------------------------------------


def _revoke(client, machine, value):
    response = post_form(
        client,
        "/oauth/revoke/",
        {"token": value},
        HTTP_AUTHORIZATION=basic(machine.client_id, machine.secret),
    )
    assert response.status_code == 200


def test_without_the_cache_a_revoked_jwt_works_until_it_expires(client, machine, token, committed):
    with committed():
        _revoke(client, machine, token)
    # Said plainly in the docs and by warning oauthflow.W009: no database, no news.
    assert client.get("/api/read/", **bearer(token)).status_code == 200


def test_with_the_cache_a_revocation_is_seen_at_once(
    client, machine, token, committed, redis_token_cache, django_assert_num_queries
):
    validation.validate(token)
    with django_assert_num_queries(0):  # one cache read, no query
        assert not isinstance(validation.validate(token), Refusal)
    with committed():
        _revoke(client, machine, token)
    _refused(client, token)


def test_a_family_revocation_reaches_jwts_through_the_cache(
    signed_in, user, client_app, api_resource, committed, redis_token_cache
):
    from tests.jwt.helpers import user_token

    client_app.resources.add(api_resource)
    body = user_token(signed_in, client_app).json()
    assert signed_in.get("/api/read/", **bearer(body["access_token"])).status_code == 200
    # The user withdraws the app on their authorized-apps page: the whole family goes.
    from oauthflow.store.revocation import revoke_grant

    with committed():
        revoke_grant(client_app, user, by="user")
    _refused(signed_in, body["access_token"])


def test_introspection_sees_a_revoked_jwt(client, machine, token, committed):
    from tests import factories

    rs = factories.ClientFactory(may_introspect=True, grant_types="")
    with committed():
        _revoke(client, machine, token)
    body = post_form(
        client,
        "/oauth/introspect/",
        {"token": token},
        HTTP_AUTHORIZATION=basic(rs.client_id, rs.secret),
    ).json()
    assert body == {"active": False}
