"""DPoP at the token endpoint (RFC 9449 §5, §8, §10)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt as jose_jwt

from oauthflow import tokens
from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from tests import factories
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

from .helpers import TOKEN_URL, DPoPKey

pytestmark = pytest.mark.django_db


def _cc(client, app, proof=None, **data):
    headers = {} if proof is None else {"HTTP_DPOP": proof}
    return token_request(
        client, app, {"grant_type": "client_credentials", "scope": "read", **data}, **headers
    )


def _error(response) -> str:
    assert response.status_code == 400, response.content
    return response.json()["error"]


def test_a_proof_binds_the_access_token(client, machine, key):
    response = _cc(client, machine, key.proof())

    body = response.json()
    assert response.status_code == 200, body
    assert body["token_type"] == "DPoP"
    row = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert row.jkt == key.jkt and row.token_type == "DPoP"


def test_without_a_proof_the_token_is_a_bearer_token(client, machine):
    body = _cc(client, machine).json()

    assert body["token_type"] == "Bearer"
    assert AccessToken.objects.get().jkt == ""


def test_a_public_clients_refresh_token_is_bound_and_needs_the_same_key(
    client, spa, signed_in, key
):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    first = exchange(client, spa, code, verifier, HTTP_DPOP=key.proof()).json()
    assert first["token_type"] == "DPoP"
    refresh = RefreshToken.objects.get(digest=tokens.digest(first["refresh_token"]))
    assert refresh.jkt == key.jkt

    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert _error(token_request(client, spa, data)) == "invalid_grant"
    other = DPoPKey()
    assert _error(token_request(client, spa, data, HTTP_DPOP=other.proof())) == "invalid_grant"
    refreshed = token_request(client, spa, data, HTTP_DPOP=key.proof())
    assert refreshed.status_code == 200, refreshed.content
    body = refreshed.json()
    assert body["token_type"] == "DPoP"
    assert RefreshToken.objects.get(digest=tokens.digest(body["refresh_token"])).jkt == key.jkt


def test_a_confidential_clients_refresh_token_stays_unbound(client, signed_in, key):
    web = factories.ClientFactory()
    verifier = new_verifier()
    code = get_code(signed_in, web, verifier=verifier)
    first = exchange(client, web, code, verifier, HTTP_DPOP=key.proof()).json()

    assert RefreshToken.objects.get(digest=tokens.digest(first["refresh_token"])).jkt == ""
    # Its secret constrains it: a refresh without a proof gets a bearer token.
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert token_request(client, web, data).json()["token_type"] == "Bearer"


def test_dpop_jkt_binds_the_code_to_the_key(client, spa, signed_in, key):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier, dpop_jkt=key.jkt)
    assert AuthorizationCode.objects.get().dpop_jkt == key.jkt

    assert _error(exchange(client, spa, code, verifier)) == "invalid_grant"


def test_dpop_jkt_refuses_a_proof_of_another_key(client, spa, signed_in, key):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier, dpop_jkt=key.jkt)

    wrong = exchange(client, spa, code, verifier, HTTP_DPOP=DPoPKey().proof())
    assert _error(wrong) == "invalid_grant"
    right = exchange(client, spa, code, verifier, HTTP_DPOP=key.proof())
    assert right.status_code == 200 and right.json()["token_type"] == "DPoP"


def test_a_malformed_dpop_jkt_is_refused_at_the_authorization_endpoint(spa, signed_in):
    from tests.oauth_helpers import authorize_url, query_of

    response = signed_in.get(authorize_url(spa, verifier=new_verifier(), dpop_jkt="nope"))

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"


def test_a_client_that_must_use_dpop_gets_nothing_without(client, key):
    strict = factories.ClientFactory(
        grant_types="client_credentials", dpop_bound_access_tokens=True
    )

    assert _error(_cc(client, strict)) == "invalid_dpop_proof"
    assert _cc(client, strict, key.proof()).json()["token_type"] == "DPoP"


def test_the_jwt_access_token_carries_cnf(client, key):
    from oauthflow.models import Resource

    api = Resource.objects.create(
        identifier="https://api.example.com/", name="API", token_format="jwt"
    )
    app = factories.ClientFactory(grant_types="client_credentials")
    app.resources.add(api)

    body = _cc(client, app, key.proof(), resource="https://api.example.com/").json()

    claims = jose_jwt.decode(
        body["access_token"],
        _jwks(client),
        algorithms=["RS256", "ES256"],
    ).claims
    assert claims["cnf"] == {"jkt": key.jkt}
    assert body["token_type"] == "DPoP"


def _jwks(client):
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(client.get("/oauth/jwks/").json())


def test_introspection_reports_the_binding(client, machine, key):
    body = _cc(client, machine, key.proof()).json()
    introspector = factories.ClientFactory(may_introspect=True, grant_types="client_credentials")

    answer = token_request(client, introspector, {"token": body["access_token"]})
    # token_request posts to the token endpoint; introspection has its own URL.
    from tests.oauth_helpers import basic, post_form

    answer = post_form(
        client,
        "/oauth/introspect/",
        {"token": body["access_token"]},
        HTTP_AUTHORIZATION=basic(introspector.client_id, introspector.secret),
    ).json()
    assert answer["active"] is True
    assert answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize(
    "document", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_metadata_advertises_the_algorithms(client, document):
    body = client.get(document).json()

    assert body["dpop_signing_alg_values_supported"] == [
        "ES256",
        "ES384",
        "PS256",
        "RS256",
    ]


@pytest.mark.parametrize("alg", ["ES256", "ES384", "PS256", "RS256"])
def test_every_advertised_algorithm_is_accepted(client, machine, alg):
    # The same list as the metadata: nothing is advertised that is refused.
    key = DPoPKey(alg)

    assert _cc(client, machine, key.proof()).json()["token_type"] == "DPoP"


# Hostile proofs ---------------------------------------------------------------------------


def _hostile_cases():
    now = int(time.time())
    return {
        "replayed": None,  # handled in its own test
        "wrong method": {"htm": "GET"},
        "wrong url": {"htu": "http://testserver/oauth/revoke/"},
        "another host": {"htu": "http://evil.example/oauth/token/"},
        "stale iat": {"claims": {"iat": now - 3600}},
        "future iat": {"claims": {"iat": now + 3600}},
        "no jti": {"drop": ("jti",)},
        "no iat": {"drop": ("iat",)},
        "no htu": {"drop": ("htu",)},
        "string iat": {"claims": {"iat": str(now)}},
        "huge jti": {"claims": {"jti": "x" * 300}},
        "typ jwt": {"header": {"typ": "JWT"}},
        "no typ": {"drop": ("typ",)},
        "no jwk": {"drop": ("jwk",)},
    }


@pytest.mark.parametrize("case", [name for name in _hostile_cases() if name != "replayed"])
def test_a_bad_proof_is_invalid_dpop_proof(client, machine, key, case):
    spec = dict(_hostile_cases()[case])
    htm = spec.pop("htm", "POST")
    htu = spec.pop("htu", TOKEN_URL)

    response = _cc(client, machine, key.proof(htu, htm, **spec))

    assert _error(response) == "invalid_dpop_proof"
    assert not AccessToken.objects.exists()


def test_a_replayed_proof_is_refused(client, machine, key):
    proof = key.proof()
    assert _cc(client, machine, proof).status_code == 200

    assert _error(_cc(client, machine, proof)) == "invalid_dpop_proof"
    assert AccessToken.objects.count() == 1


def test_alg_none_is_refused(client, machine, key):
    import base64
    import json

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = {"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk}
    claims = {"jti": "a", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    unsigned = f"{part(header)}.{part(claims)}."

    assert _error(_cc(client, machine, unsigned)) == "invalid_dpop_proof"
    assert _error(_cc(client, machine, unsigned + "AAAA")) == "invalid_dpop_proof"


def test_hs256_keyed_with_a_symmetric_jwk_is_refused(client, machine):
    from joserfc.jwk import OctKey

    secret = OctKey.generate_key(256)
    key = DPoPKey()
    proof = key.proof(header={"alg": "HS256", "jwk": secret.as_dict(private=True)}, key=secret)

    assert _error(_cc(client, machine, proof)) == "invalid_dpop_proof"


def test_a_jwk_with_private_members_is_refused(client, machine, key):
    proof = key.proof(header={"jwk": key.key.as_dict(private=True)})

    response = _cc(client, machine, proof)
    assert _error(response) == "invalid_dpop_proof"
    assert "private" in response.json()["error_description"]


def test_a_proof_signed_by_another_key_is_refused(client, machine, key):
    other = DPoPKey()

    assert _error(_cc(client, machine, key.proof(key=other.key))) == "invalid_dpop_proof"


def test_a_short_rsa_key_is_refused(client, machine):
    from joserfc.jwk import RSAKey

    small = RSAKey.generate_key(1024, auto_kid=False)
    key = DPoPKey("RS256")
    proof = key.proof(header={"jwk": small.as_dict(private=False)}, key=small)

    assert _error(_cc(client, machine, proof)) == "invalid_dpop_proof"


@pytest.mark.parametrize(
    "value",
    ["", "not a jwt", "a.b.c", "eyJ.eyJ.x", "x" * 5000, "e30.e30.e30, e30.e30.e30", "ä.ö.ü"],
)
def test_garbage_is_refused_not_a_500(client, machine, value):
    response = _cc(client, machine, value)

    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_dpop_proof", "invalid_request")


def test_nonces_when_asked(client, machine, key, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DPOP_NONCES": True}

    first = _cc(client, machine, key.proof())
    assert _error(first) == "use_dpop_nonce"
    nonce = first["DPoP-Nonce"]
    assert nonce

    assert _error(_cc(client, machine, key.proof(claims={"nonce": "stale.0"}))) == "use_dpop_nonce"
    again = _cc(client, machine, key.proof(claims={"nonce": nonce}))
    assert again.status_code == 200 and again.json()["token_type"] == "DPoP"


def test_the_proof_may_name_the_issuers_url(client, machine, key, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://id.example.com"}

    proof = key.proof("https://id.example.com/oauth/token/")

    assert _cc(client, machine, proof).json()["token_type"] == "DPoP"


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://TESTSERVER/oauth/token/",
        "http://testserver:80/oauth/token/",
        "http://testserver/oauth/token/?x=1",
        "http://testserver/oauth/token/#frag",
        "http://testserver/oauth/%74oken/",
    ],
)
def test_htu_is_compared_normalised(client, machine, key, htu):
    assert _cc(client, machine, key.proof(htu)).json()["token_type"] == "DPoP"


def test_eddsa_is_not_accepted(client, machine):
    assert _error(_cc(client, machine, DPoPKey("EdDSA").proof())) == "invalid_dpop_proof"
