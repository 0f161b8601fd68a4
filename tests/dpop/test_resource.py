"""DPoP at a protected resource (RFC 9449 §7): the DRF classes and the decorator."""

from __future__ import annotations

import pytest

from tests.oauth_helpers import token_request

from .helpers import DPoPKey

pytestmark = pytest.mark.django_db

API = "/api/read/"
PLAIN = "/plain/read/"


@pytest.fixture
def bound(client, machine, key):
    body = token_request(
        client,
        machine,
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_DPOP=key.proof(),
    ).json()
    assert body["token_type"] == "DPoP"
    return body["access_token"]


@pytest.fixture
def bearer(client, machine):
    body = token_request(client, machine, {"grant_type": "client_credentials", "scope": "read"})
    return body.json()["access_token"]


def _get(client, url, token, proof=None, scheme="DPoP", **headers):
    if proof is not None:
        headers["HTTP_DPOP"] = proof
    return client.get(url, HTTP_AUTHORIZATION=f"{scheme} {token}", **headers)


def _challenge(response) -> str:
    return response["WWW-Authenticate"]


@pytest.mark.parametrize("url", [API, PLAIN])
def test_a_bound_token_with_its_proof_is_accepted(client, bound, key, url):
    response = _get(
        client, url, bound, key.proof(f"http://testserver{url}", "GET", access_token=bound)
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", [API, PLAIN])
def test_a_bound_token_presented_as_bearer_is_refused(client, bound, url):
    response = _get(client, url, bound, scheme="Bearer")

    assert response.status_code == 401
    assert 'error="invalid_token"' in _challenge(response)


@pytest.mark.parametrize("url", [API, PLAIN])
def test_without_a_proof_it_is_invalid_dpop_proof_in_the_dpop_challenge(client, bound, url):
    response = _get(client, url, bound)

    assert response.status_code == 401
    challenge = _challenge(response)
    bearer_part, dpop_part = challenge.split(", DPoP ")
    assert bearer_part.startswith("Bearer realm=") and "error" not in bearer_part
    assert 'algs="ES256 ES384 PS256 RS256"' in dpop_part
    assert 'error="invalid_dpop_proof"' in dpop_part


def test_no_token_gets_both_challenges(client):
    response = client.get(API)

    assert response.status_code == 401
    assert _challenge(response).startswith("Bearer realm=")
    assert 'DPoP algs="ES256 ES384 PS256 RS256"' in _challenge(response)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda key, token: key.proof("http://testserver/api/read/", "GET"), id="no ath"
        ),
        pytest.param(
            lambda key, token: key.proof(
                "http://testserver/api/read/", "GET", access_token="x" + token
            ),
            id="another token's ath",
        ),
        pytest.param(
            lambda key, token: DPoPKey().proof(
                "http://testserver/api/read/", "GET", access_token=token
            ),
            id="another key",
        ),
        pytest.param(
            lambda key, token: key.proof("http://testserver/api/read/", "POST", access_token=token),
            id="wrong method",
        ),
        pytest.param(
            lambda key, token: key.proof("http://testserver/api/notes/", "GET", access_token=token),
            id="wrong url",
        ),
        pytest.param(
            lambda key, token: key.proof(
                "http://testserver/api/read/", "GET", access_token=token, claims={"iat": 1}
            ),
            id="stale",
        ),
        pytest.param(
            lambda key, token: key.proof(
                "http://testserver/api/read/", "GET", access_token=token, header={"typ": "JWT"}
            ),
            id="typ JWT",
        ),
    ],
)
def test_a_bad_proof_is_refused(client, bound, key, make):
    response = _get(client, API, bound, make(key, bound))

    assert response.status_code == 401
    assert 'error="invalid_dpop_proof"' in _challenge(response)


def test_a_replayed_proof_is_refused(client, bound, key):
    proof = key.proof("http://testserver/api/read/", "GET", access_token=bound)
    assert _get(client, API, bound, proof).status_code == 200

    again = _get(client, API, bound, proof)

    assert again.status_code == 401
    assert "already used" in _challenge(again)


def test_an_unbound_token_in_the_dpop_scheme_is_refused(client, bearer, key):
    response = _get(
        client, API, bearer, key.proof("http://testserver/api/read/", "GET", access_token=bearer)
    )

    assert response.status_code == 401
    assert 'error="invalid_token"' in _challenge(response)


def test_a_bearer_token_still_works_as_bearer(client, bearer):
    assert _get(client, API, bearer, scheme="Bearer").status_code == 200


def test_an_oversized_proof_header_is_refused(client, bound):
    response = _get(client, API, bound, "e" * 100_000)

    assert response.status_code == 401
    assert 'error="invalid_dpop_proof"' in _challenge(response)


@pytest.mark.parametrize("value", ["DPoP", "DPoP ", "DPoP a b", "DPoP ä"])
def test_a_malformed_dpop_authorization_is_invalid_token(client, value):
    response = client.get(API, HTTP_AUTHORIZATION=value)

    assert response.status_code == 401


def test_nonces_at_the_resource(client, bound, key, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DPOP_NONCES": True}

    first = _get(
        client, PLAIN, bound, key.proof("http://testserver/plain/read/", "GET", access_token=bound)
    )
    assert first.status_code == 401
    assert 'error="use_dpop_nonce"' in _challenge(first)
    nonce = first["DPoP-Nonce"]

    again = _get(
        client,
        PLAIN,
        bound,
        key.proof(
            "http://testserver/plain/read/", "GET", access_token=bound, claims={"nonce": nonce}
        ),
    )
    assert again.status_code == 200


def test_drf_sends_the_nonce_with_oauthflows_exception_handler(client, bound, key, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DPOP_NONCES": True}
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "EXCEPTION_HANDLER": "oauthflow.rest_framework.authentication.exception_handler",
    }

    first = _get(
        client, API, bound, key.proof("http://testserver/api/read/", "GET", access_token=bound)
    )

    assert first.status_code == 401
    assert 'error="use_dpop_nonce"' in _challenge(first)
    assert first["DPoP-Nonce"]
