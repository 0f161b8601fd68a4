"""private_key_jwt (RFC 7523 §2.2) through panva's openid-client (Node, v6 on
oauth4webapi) against the live server.

tests/flows/node/private_key_jwt.mjs is the client: ``client.PrivateKeyJwt`` signs a
fresh client assertion for every request with a private key imported by WebCrypto.
Each assertion the library sent is decoded here with PyJWT, independently of the
server, and checked as RFC 7523 §3 asks; the server's answer and its database show the
rest. Needs Node.js (CI has it): the tests fail, not skip, without it.
"""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest

from oauthflow.models import AccessToken, RefreshToken
from oauthflow.private_key_jwt.models import UsedAssertion
from tests import factories
from tests.flows.node_script import running
from tests.oauth_helpers import query_of
from tests.private_key_jwt.helpers import ClientKey

pytestmark = pytest.mark.live

STEP_TIMEOUT = 15
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def pkjwt(node):
    with running(node, "private_key_jwt.mjs", STEP_TIMEOUT) as started:
        yield started


def checked_assertion(exchange: dict, key: ClientKey, client_id: str, issuer: str) -> dict:
    """The assertion the library sent, verified with PyJWT: signature, iss, sub, aud, a
    short exp, a jti."""
    form = dict(exchange["form"])
    assert form["client_assertion_type"] == JWT_BEARER
    assert "client_secret" not in form and exchange["authorization_scheme"] is None
    public = pyjwt.PyJWK.from_json(json.dumps(key.public_jwk()))
    claims = pyjwt.decode(
        form["client_assertion"],
        public.key,
        algorithms=[key.alg],
        audience=[issuer, issuer + "/oauth/token/"],
        options={"require": ["exp", "iss", "sub", "aud", "jti"]},
    )
    assert claims["iss"] == claims["sub"] == client_id
    assert claims["exp"] - claims["iat"] <= 300
    header = pyjwt.get_unverified_header(form["client_assertion"])
    assert header["alg"] == key.alg
    return claims


@pytest.mark.parametrize("alg", ["ES256", "PS256", "RS256"])
def test_openid_client_client_credentials(live_server, transactional_db, pkjwt, alg):
    key = ClientKey(alg)
    machine = factories.ClientFactory(
        grant_types="client_credentials",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    issuer = live_server.url
    metadata = pkjwt.ok(
        "discover",
        issuer=issuer,
        client_id=machine.client_id,
        jwk=key.key.as_dict(private=True),
        kid=key.kid,
        alg=alg,
    )["metadata"]
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert alg in metadata["token_endpoint_auth_signing_alg_values_supported"]
    pkjwt.exchanges()

    first = pkjwt.ok("client_credentials", scope="read")["tokens"]
    second = pkjwt.ok("client_credentials", scope="read")["tokens"]
    assert first["access_token"] != second["access_token"]
    jtis = [checked_assertion(e, key, machine.client_id, issuer)["jti"] for e in pkjwt.exchanges()]
    assert len(set(jtis)) == 2
    assert AccessToken.objects.filter(client=machine).count() == 2
    assert UsedAssertion.objects.count() == 2


def test_openid_client_pushed_code_flow_refresh_and_revoke(live_server, browser, pkjwt):
    key = ClientKey("ES256")
    web = factories.ClientFactory(
        redirect_uris="https://rp.example.com/callback",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    issuer = live_server.url
    pkjwt.ok(
        "discover",
        issuer=issuer,
        client_id=web.client_id,
        jwk=key.key.as_dict(private=True),
        kid=key.kid,
        alg="ES256",
    )
    pkjwt.exchanges()

    started = pkjwt.ok(
        "start",
        flow="main",
        redirect_uri="https://rp.example.com/callback",
        scope="openid read",
        par=True,
    )
    [push] = pkjwt.exchanges()
    assert push["status"] == 201, push
    checked_assertion(push, key, web.client_id, issuer)

    location = browser.consent(started["url"])
    assert query_of(location)["state"] == started["state"]
    redeemed = pkjwt.ok("callback", flow="main", url=location)
    assert redeemed["claims"]["aud"] == web.client_id
    [token_exchange] = [e for e in pkjwt.exchanges() if e["url"].endswith("/oauth/token/")]
    checked_assertion(token_exchange, key, web.client_id, issuer)

    refreshed = pkjwt.ok("refresh", refresh_token=redeemed["tokens"]["refresh_token"])["tokens"]
    assert refreshed["refresh_token"] != redeemed["tokens"]["refresh_token"]
    pkjwt.ok("revoke", token=refreshed["refresh_token"])
    exchanges = pkjwt.exchanges()
    assert [e["status"] for e in exchanges if e["method"] == "POST"] == [200, 200]
    for exchange in exchanges:
        if exchange["method"] == "POST":
            checked_assertion(exchange, key, web.client_id, issuer)
    assert not RefreshToken.objects.filter(client=web, revoked_at__isnull=True).exists()


def test_openid_client_with_the_wrong_key_is_refused(live_server, transactional_db, pkjwt):
    key, stranger = ClientKey("ES256"), ClientKey("ES256")
    machine = factories.ClientFactory(
        grant_types="client_credentials",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    pkjwt.ok(
        "discover",
        issuer=live_server.url,
        client_id=machine.client_id,
        jwk=stranger.key.as_dict(private=True),
        kid=key.kid,
        alg="ES256",
    )
    reply = pkjwt.step("client_credentials", scope="read")
    assert not reply["ok"]
    # A 401 with the error in the WWW-Authenticate challenge, as for every client
    # authentication failure at this endpoint.
    assert reply["error"]["status"] == 401, reply
    [challenge] = reply["error"]["challenges"]
    assert challenge["parameters"]["error"] == "invalid_client"
    assert not AccessToken.objects.exists()
