"""DPoP (RFC 9449) end to end through panva's openid-client (Node, v6 on oauth4webapi)
against the live server, with every proof the library sent checked again in Python by
PyJWT, a JOSE library oauthflow does not use (it uses joserfc).

tests/flows/node/dpop.mjs is the client; this test drives it one step at a time (JSON
lines on its stdin and stdout) and plays the user's browser between the steps. The
library makes the key pair (``randomDPoPKeyPair``), signs the proofs, sends
``Authorization: DPoP``, and retries once on ``use_dpop_nonce`` with the ``DPoP-Nonce``
it was given. Its ``customFetch`` records each HTTP exchange; for each proof this test
verifies the signature with the ``jwk`` of the proof's own header (PyJWT), checks
``typ``, ``htm``, ``htu``, ``iat``, ``jti``, ``ath`` and ``nonce``, and computes the RFC
7638 thumbprint of that key itself (hashlib and json). That thumbprint must be the one
the server bound the tokens to: the rows' ``jkt``, and ``cnf.jkt`` of a JWT access token
verified by PyJWT against the served JWKS.

Needs Node.js (CI has it): the tests fail, not skip, without it. The npm packages,
pinned in tests/flows/node/package-lock.json, are installed on first use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import urlsplit, urlunsplit

import jwt
import pytest
import requests

from oauthflow import tokens
from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken, Resource
from tests import factories
from tests.flows.node_script import NodeScript, running
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

#: How long one step may take (a discovery, a token request retried with a nonce...).
STEP_TIMEOUT = 15
ALGORITHMS = ["ES256", "ES384", "PS256", "RS256"]
API = "https://api.example.com/"
REDIRECT_URI = "https://spa.example.com/callback"
#: The members of a JWK that only a private or symmetric key has (RFC 7518 §6).
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
#: The required members of each key type, the only ones a thumbprint hashes (RFC 7638 §3.2).
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


@pytest.fixture
def dpop_client(node):
    """The running dpop.mjs: ``dpop_client.step(op, **fields)`` sends one request,
    returns the reply."""
    with running(node, "dpop.mjs", STEP_TIMEOUT) as started:
        yield started


# Independent checks, with PyJWT, hashlib and json only --------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict) -> str:
    """The RFC 7638 SHA-256 thumbprint: the required members, sorted, no whitespace."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def expected_ath(access_token: str) -> str:
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


class ProofChecker:
    """Verifies the proofs one client sent, remembering their ``jti`` (each used once)."""

    def __init__(self) -> None:
        self.jtis: set[str] = set()

    def check(
        self,
        exchange: dict,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """Verify the proof the library sent in ``exchange``; its key's thumbprint."""
        proof = exchange["dpop"]
        assert proof, f"no DPoP proof was sent: {exchange}"
        header = jwt.get_unverified_header(proof)
        # §4.2: the header names the type and an asymmetric algorithm, and carries the
        # public key, no private part.
        assert header["typ"] == "dpop+jwt", header
        assert header["alg"] in ALGORITHMS, header
        jwk = header["jwk"]
        assert not PRIVATE_MEMBERS & jwk.keys(), jwk
        key = jwt.PyJWK(jwk, algorithm=header["alg"])
        # The signature, with the key of the header (PyJWT raises if it does not verify).
        claims = jwt.decode(
            proof,
            key.key,
            algorithms=[header["alg"]],
            options={"require": ["jti", "htm", "htu", "iat"]},
            leeway=5,
        )
        # And the check is real: one bit of the signature changed and it fails.
        head, payload, signature = proof.split(".")
        damaged = bytearray(base64.urlsafe_b64decode(signature + "=="))
        damaged[0] ^= 1
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(f"{head}.{payload}.{b64url(bytes(damaged))}", key.key, [header["alg"]])

        assert claims["htm"] == exchange["method"], (claims, exchange)
        url = urlsplit(exchange["url"])
        assert claims["htu"] == urlunsplit(url._replace(query="", fragment="")), claims
        assert isinstance(claims["iat"], int) and abs(claims["iat"] - time.time()) < 30, claims
        assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16, claims
        assert claims["jti"] not in self.jtis, "the library reused a jti"
        self.jtis.add(claims["jti"])
        if access_token is None:
            assert "ath" not in claims, claims
        else:
            assert claims["ath"] == expected_ath(access_token), claims
            assert exchange["authorization"] == f"DPoP {access_token}"
        if nonce is None:
            assert "nonce" not in claims, claims
        else:
            assert claims["nonce"] == nonce, claims
        return thumbprint(jwk)


def verify_jwt_access_token(base_url: str, value: str) -> dict:
    """The claims of a JWT access token, verified with PyJWT against the served JWKS."""
    header = jwt.get_unverified_header(value)
    assert header["typ"] == "at+jwt", header
    keys = jwt.PyJWKSet.from_dict(requests.get(base_url + "/oauth/jwks/", timeout=10).json())
    key = keys[header["kid"]]
    return jwt.decode(
        value,
        key.key,
        algorithms=[header["alg"]],
        audience=API,
        issuer=base_url,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )


def access_row(value: str) -> AccessToken:
    return AccessToken.objects.get(digest=tokens.digest(value))


def refresh_row(value: str) -> RefreshToken:
    return RefreshToken.objects.get(digest=tokens.digest(value))


def challenges(error: dict) -> dict[str, dict]:
    """The library's parsed WWW-Authenticate challenges, by (lower-case) scheme."""
    assert error["name"] == "WWWAuthenticateChallengeError", error
    assert error["status"] == 401, error
    return {challenge["scheme"]: challenge["parameters"] for challenge in error["challenges"]}


def only(exchanges: list[dict], method: str, url: str) -> list[dict]:
    return [e for e in exchanges if e["method"] == method and e["url"] == url]


def new_key(dpop_client: NodeScript, name: str, alg: str = "ES256") -> str:
    """A key pair the library makes; its thumbprint, as this module computes it (and the
    library agrees)."""
    made = dpop_client.ok("key", name=name, alg=alg)
    jkt = thumbprint(made["jwk"])
    assert made["jkt"] == jkt
    return jkt


# (a) Authorization code + PKCE, a public client -------------------------------------------


def test_public_client_code_flow_refresh_and_resource(live_server, browser, dpop_client):
    app = factories.PublicClientFactory(
        redirect_uris=REDIRECT_URI, grant_types="authorization_code refresh_token"
    )
    base = live_server.url
    token_url = base + "/oauth/token/"
    checker = ProofChecker()
    metadata = dpop_client.ok("discover", issuer=base, client_id=app.client_id, algorithm="oauth2")[
        "metadata"
    ]
    assert metadata["dpop_signing_alg_values_supported"] == ALGORITHMS
    assert metadata["token_endpoint"] == token_url
    jkt = new_key(dpop_client, "spa")
    dpop_client.exchanges()

    # The authorization request binds the code to the key (dpop_jkt, §10).
    start = dpop_client.ok(
        "start", flow="main", redirect_uri=REDIRECT_URI, scope="read", bind="spa"
    )
    assert query_of(start["url"])["dpop_jkt"] == jkt
    location = browser.consent(start["url"])
    assert location.startswith(REDIRECT_URI + "?")
    assert AuthorizationCode.objects.get(client=app).dpop_jkt == jkt

    # The code exchange, with the library's proof: a DPoP token.
    got = dpop_client.ok("callback", flow="main", url=location, key="spa")["tokens"]
    assert got["token_type"] == "dpop"  # the library lower-cases it
    assert got["refresh_token"]
    [exchange] = dpop_client.exchanges()
    assert (exchange["method"], exchange["url"], exchange["status"]) == ("POST", token_url, 200)
    assert checker.check(exchange) == jkt
    access = access_row(got["access_token"])
    assert (access.client, access.user) == (app, browser.user)
    assert access.jkt == jkt and access.token_type == "DPoP"
    # A public client's refresh token is bound as well (§5).
    assert refresh_row(got["refresh_token"]).jkt == jkt

    # The protected resources, DRF and decorator, with the library's proofs.
    for path in ("/api/read/", "/plain/read/"):
        answer = dpop_client.ok("resource", url=base + path, flow="main", key="spa")
        assert answer["status"] == 200, answer
        assert answer["body"]["user"] == browser.user.username
        assert answer["body"]["client_id"] == app.client_id
        assert answer["body"]["scopes"] == ["read"]
        [exchange] = dpop_client.exchanges()
        assert (exchange["method"], exchange["url"]) == ("GET", base + path)
        assert checker.check(exchange, access_token=got["access_token"]) == jkt

    # The bound refresh token is useless without the key: no proof, or another key's.
    error = dpop_client.refused("refresh", flow="main")
    assert (error["error"], error["status"]) == ("invalid_grant", 400), error
    new_key(dpop_client, "thief")
    error = dpop_client.refused("refresh", flow="main", key="thief")
    assert (error["error"], error["status"]) == ("invalid_grant", 400), error
    without, with_other = dpop_client.exchanges()
    assert without["dpop"] is None and without["error"] == "invalid_grant"
    assert checker.check(with_other) != jkt and with_other["error"] == "invalid_grant"

    # With the key: new tokens, bound to it again, the old refresh token rotated out.
    renewed = dpop_client.ok("refresh", flow="main", key="spa")["tokens"]
    assert renewed["token_type"] == "dpop"
    assert renewed["refresh_token"] not in (None, got["refresh_token"])
    [exchange] = dpop_client.exchanges()
    assert (exchange["url"], exchange["status"]) == (token_url, 200)
    assert checker.check(exchange) == jkt
    assert access_row(renewed["access_token"]).jkt == jkt
    new_refresh = refresh_row(renewed["refresh_token"])
    assert new_refresh.jkt == jkt
    assert new_refresh.rotated_from == refresh_row(got["refresh_token"])
    answer = dpop_client.ok("resource", url=base + "/api/read/", flow="main", key="spa")
    assert answer["status"] == 200, answer
    [exchange] = dpop_client.exchanges()
    assert checker.check(exchange, access_token=renewed["access_token"]) == jkt


# (b) client_credentials, a confidential client, a JWT access token ------------------------


@pytest.fixture
def jwt_api(transactional_db, settings):
    """A JWT resource, and this site configured as that API (the live server runs in
    this process, so the override reaches it)."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "RESOURCE": API}
    return Resource.objects.create(identifier=API, name="API", token_format="jwt")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_client_credentials_jwt_access_token(live_server, jwt_api, dpop_client, alg):
    app = factories.ClientFactory(grant_types="client_credentials")
    app.resources.add(jwt_api)
    base = live_server.url
    checker = ProofChecker()
    dpop_client.ok(
        "discover",
        issuer=base,
        client_id=app.client_id,
        client_secret=app.secret,
        algorithm="oidc",
    )
    jkt = new_key(dpop_client, "machine", alg)
    dpop_client.exchanges()

    got = dpop_client.ok(
        "client_credentials",
        flow="machine",
        parameters={"scope": "read", "resource": API},
        key="machine",
    )["tokens"]
    assert got["token_type"] == "dpop"
    assert got["refresh_token"] is None
    [exchange] = dpop_client.exchanges()
    assert (exchange["url"], exchange["status"]) == (base + "/oauth/token/", 200)
    assert exchange["authorization"].startswith("Basic ")  # the client's secret, as well
    assert checker.check(exchange) == jkt

    # The JWT access token, verified by PyJWT against the served keys, names the key.
    claims = verify_jwt_access_token(base, got["access_token"])
    assert claims["cnf"] == {"jkt": jkt}
    assert claims["client_id"] == app.client_id
    assert claims["scope"] == "read"
    row = access_row(got["access_token"])
    assert row.jkt == jkt and row.resource == API

    # The API verifies the JWT and the proof.
    for path in ("/api/read/", "/plain/read/"):
        answer = dpop_client.ok("resource", url=base + path, flow="machine", key="machine")
        assert answer["status"] == 200, answer
        assert answer["body"]["client_credentials"] is True
        assert answer["body"]["client_id"] == app.client_id
        [exchange] = dpop_client.exchanges()
        assert checker.check(exchange, access_token=got["access_token"]) == jkt

    # Stolen: as a Bearer token, or with a proof of another key, it is refused.
    error = dpop_client.refused("resource", url=base + "/api/read/", flow="machine")
    assert challenges(error)["bearer"]["error"] == "invalid_token", error
    new_key(dpop_client, "thief")
    error = dpop_client.refused("resource", url=base + "/api/read/", flow="machine", key="thief")
    assert challenges(error)["dpop"]["error"] == "invalid_dpop_proof", error


# (c) Server-provided nonces -----------------------------------------------------------------


@pytest.fixture
def nonces(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DPOP_NONCES": True}
    # The DRF view sends DPoP-Nonce only through oauthflow's exception handler.
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "EXCEPTION_HANDLER": "oauthflow.rest_framework.authentication.exception_handler",
    }


def _retried_with_the_nonce(checker: ProofChecker, exchanges: list[dict], **check) -> str:
    """Two exchanges: refused with use_dpop_nonce and a nonce, then the library's retry
    with that nonce, accepted. The nonce."""
    first, second = exchanges
    assert first["url"] == second["url"] and first["method"] == second["method"]
    assert first["status"] in (400, 401), first
    nonce = first["dpop_nonce"]
    assert nonce, first
    if first["status"] == 400:  # the token endpoint: an OAuth error body (§8)
        assert first["error"] == "use_dpop_nonce", first
    else:  # a resource: the DPoP challenge (§9)
        assert first["www_authenticate"].startswith('Bearer realm="api", DPoP '), first
        assert 'error="use_dpop_nonce"' in first["www_authenticate"], first
    jkt = checker.check(first, **check)
    assert second["status"] == 200, second
    assert checker.check(second, nonce=nonce, **check) == jkt
    return nonce


def test_the_library_retries_with_the_servers_nonce(
    live_server, transactional_db, nonces, dpop_client
):
    app = factories.ClientFactory(grant_types="client_credentials")
    base = live_server.url
    checker = ProofChecker()
    dpop_client.ok("discover", issuer=base, client_id=app.client_id, client_secret=app.secret)
    jkt = new_key(dpop_client, "machine")
    dpop_client.exchanges()

    # The token endpoint: use_dpop_nonce, then the retry with the nonce succeeds.
    got = dpop_client.ok(
        "client_credentials", flow="m", parameters={"scope": "read"}, key="machine"
    )["tokens"]
    assert got["token_type"] == "dpop"
    nonce = _retried_with_the_nonce(checker, dpop_client.exchanges())
    assert access_row(got["access_token"]).jkt == jkt
    assert AccessToken.objects.filter(client=app).count() == 1

    # The library keeps the nonce for the origin: the resource takes it at once.
    answer = dpop_client.ok("resource", url=base + "/plain/read/", flow="m", key="machine")
    assert answer["status"] == 200, answer
    [exchange] = dpop_client.exchanges()
    assert checker.check(exchange, access_token=got["access_token"], nonce=nonce) == jkt

    # A fresh handle (same key, no nonce yet) at each resource: refused with a nonce in
    # the DPoP challenge, retried with it, accepted.
    for path in ("/plain/read/", "/api/read/"):
        dpop_client.ok("handle", name="machine")
        answer = dpop_client.ok("resource", url=base + path, flow="m", key="machine")
        assert answer["status"] == 200, answer
        assert answer["body"]["client_id"] == app.client_id
        _retried_with_the_nonce(checker, dpop_client.exchanges(), access_token=got["access_token"])


def test_nonces_in_the_code_flow_and_at_refresh(live_server, browser, nonces, dpop_client):
    """The retry after use_dpop_nonce redeems the same code, and the same refresh token:
    the refused first attempt must not have used them up."""
    app = factories.PublicClientFactory(
        redirect_uris=REDIRECT_URI, grant_types="authorization_code refresh_token"
    )
    base = live_server.url
    checker = ProofChecker()
    dpop_client.ok("discover", issuer=base, client_id=app.client_id)
    jkt = new_key(dpop_client, "spa")
    start = dpop_client.ok("start", flow="main", redirect_uri=REDIRECT_URI, scope="read")
    location = browser.consent(start["url"])
    dpop_client.exchanges()

    got = dpop_client.ok("callback", flow="main", url=location, key="spa")["tokens"]
    assert got["token_type"] == "dpop"
    _retried_with_the_nonce(checker, dpop_client.exchanges())
    assert access_row(got["access_token"]).jkt == jkt
    assert refresh_row(got["refresh_token"]).jkt == jkt

    # A fresh handle (no nonce yet) refreshes: refused once, then the same refresh token
    # with the nonce gets new tokens.
    dpop_client.ok("handle", name="spa")
    renewed = dpop_client.ok("refresh", flow="main", key="spa")["tokens"]
    assert renewed["token_type"] == "dpop"
    _retried_with_the_nonce(checker, dpop_client.exchanges())
    assert refresh_row(renewed["refresh_token"]).jkt == jkt
    assert refresh_row(renewed["refresh_token"]).rotated_from == refresh_row(got["refresh_token"])
    answer = dpop_client.ok("resource", url=base + "/api/read/", flow="main", key="spa")
    assert answer["status"] == 200, answer


# (d) A bound token in the wrong hands -----------------------------------------------------


@pytest.mark.parametrize("path", ["/api/read/", "/plain/read/"])
def test_a_stolen_bound_token_is_refused(live_server, transactional_db, dpop_client, path):
    app = factories.ClientFactory(grant_types="client_credentials")
    base = live_server.url
    url = base + path
    checker = ProofChecker()
    dpop_client.ok("discover", issuer=base, client_id=app.client_id, client_secret=app.secret)
    jkt = new_key(dpop_client, "owner")
    got = dpop_client.ok("client_credentials", flow="m", parameters={"scope": "read"}, key="owner")[
        "tokens"
    ]
    token = got["access_token"]
    assert access_row(token).jkt == jkt
    answer = dpop_client.ok("resource", url=url, flow="m", key="owner")
    assert answer["status"] == 200, answer
    *_, used = dpop_client.exchanges()
    assert checker.check(used, access_token=token) == jkt

    # Presented as a Bearer token: by the library (no DPoP handle) and by requests.
    error = dpop_client.refused("resource", url=url, token=token)
    assert challenges(error)["bearer"]["error"] == "invalid_token", error
    [exchange] = dpop_client.exchanges()
    assert exchange["authorization"] == f"Bearer {token}" and exchange["dpop"] is None
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    # With a valid proof of another key: the library's own proof, refused.
    thief = new_key(dpop_client, "thief")
    error = dpop_client.refused("resource", url=url, token=token, key="thief")
    assert challenges(error)["dpop"]["error"] == "invalid_dpop_proof", error
    [exchange] = dpop_client.exchanges()
    assert checker.check(exchange, access_token=token) == thief != jkt

    # The owner's proof, captured in transit and replayed with the token: used once.
    replayed = requests.get(
        url, headers={"Authorization": f"DPoP {token}", "DPoP": used["dpop"]}, timeout=10
    )
    assert replayed.status_code == 401
    assert 'error="invalid_dpop_proof"' in replayed.headers["WWW-Authenticate"]
    assert "already used" in replayed.headers["WWW-Authenticate"]

    # The owner can still use it: the refusals did not revoke anything.
    answer = dpop_client.ok("resource", url=url, flow="m", key="owner")
    assert answer["status"] == 200, answer
