"""An API on another host (no oauthflow app, no database) checks DPoP-bound JWT access
tokens: the token's ``cnf.jkt`` names the key, the proof is checked there, and the
proof's ``jti`` is remembered in the shared cache.

The API is the standalone process of tests/jwt (``STANDALONE_DPOP=1``); the provider is
the live server.
"""

from __future__ import annotations

import pytest
import requests

from tests.jwt.test_standalone_api import (  # noqa: F401 (fixtures)
    API,
    machine,
    start_api,
)

from .helpers import DPoPKey

pytestmark = pytest.mark.live


@pytest.fixture
def dpop_api(start_api, settings):  # noqa: F811
    cache = settings.CACHES["tokens"]
    return start_api(
        STANDALONE_DPOP="1",
        STANDALONE_TOKEN_CACHE=f"{cache['LOCATION']} {cache['KEY_PREFIX']}",
    )


def _bound_token(live_server, client, key: DPoPKey) -> str:
    response = requests.post(
        live_server.url + "/oauth/token/",
        data={"grant_type": "client_credentials", "scope": "read", "resource": API},
        auth=(client.client_id, client.secret),
        headers={"DPoP": key.proof(live_server.url + "/oauth/token/")},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    return response.json()["access_token"]


def _get(api, path, token, proof=None, scheme="DPoP"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof:
        headers["DPoP"] = proof
    return requests.get(api.url + path, headers=headers, timeout=15)


@pytest.mark.parametrize("path", ["/plain/read/", "/api/read/"])
def test_the_api_checks_the_proof_against_cnf_alone(live_server, machine, dpop_api, path):  # noqa: F811
    key = DPoPKey()
    token = _bound_token(live_server, machine, key)

    ok = _get(dpop_api, path, token, key.proof(dpop_api.url + path, "GET", access_token=token))
    assert ok.status_code == 200, dpop_api.log()

    as_bearer = _get(dpop_api, path, token, scheme="Bearer")
    assert as_bearer.status_code == 401
    assert 'error="invalid_token"' in as_bearer.headers["WWW-Authenticate"]
    thief = DPoPKey().proof(dpop_api.url + path, "GET", access_token=token)
    stolen = _get(dpop_api, path, token, thief)
    assert stolen.status_code == 401
    assert 'error="invalid_dpop_proof"' in stolen.headers["WWW-Authenticate"]
    dpop_api.assert_stayed_standalone()


def test_a_proof_used_at_the_api_is_not_accepted_again(live_server, machine, dpop_api):  # noqa: F811
    key = DPoPKey()
    token = _bound_token(live_server, machine, key)
    proof = key.proof(dpop_api.url + "/api/read/", "GET", access_token=token)
    assert _get(dpop_api, "/api/read/", token, proof).status_code == 200

    again = _get(dpop_api, "/api/read/", token, proof)

    assert again.status_code == 401
    assert "already used" in again.headers["WWW-Authenticate"]
    dpop_api.assert_stayed_standalone()
