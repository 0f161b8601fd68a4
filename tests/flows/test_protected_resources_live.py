"""A protected DRF view and a decorated plain view, called over HTTP by real clients."""

import pytest
import requests
from requests_oauthlib import OAuth2Session

from oauthflow.store import revocation
from tests import factories

pytestmark = pytest.mark.live

PATHS = ["/api/read/", "/plain/read/"]


@pytest.fixture(params=["cache off", "cache on"])
def cache_mode(request, settings):
    if request.param == "cache on":
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    return request.param


def get(url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=10)


@pytest.mark.parametrize("path", PATHS)
def test_answers_over_http(live_server, transactional_db, path):
    url = live_server.url + path
    token = factories.AccessTokenFactory(scope="read", user__username="carol")
    ok = get(url, token.value)
    assert ok.status_code == 200
    assert ok.json()["user"] == "carol"

    missing = get(url)
    assert missing.status_code == 401
    # A challenge per accepted scheme: this site installs oauthflow.dpop (RFC 9449 §7.2).
    assert missing.headers["WWW-Authenticate"] == (
        'Bearer realm="api", DPoP algs="ES256 ES384 PS256 RS256"'
    )

    unknown = get(url, "ofat_" + "x" * 43)
    assert unknown.status_code == 401
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]

    narrow = factories.AccessTokenFactory(scope="profile")
    forbidden = get(url, narrow.value)
    assert forbidden.status_code == 403
    assert 'error="insufficient_scope", ' in forbidden.headers["WWW-Authenticate"]
    assert forbidden.headers["WWW-Authenticate"].endswith('scope="read"')


@pytest.mark.parametrize("path", PATHS)
def test_revocation_is_seen_by_the_server_on_the_next_request(
    live_server, transactional_db, cache_mode, path
):
    url = live_server.url + path
    token = factories.AccessTokenFactory(scope="read")
    assert get(url, token.value).status_code == 200
    assert get(url, token.value).status_code == 200  # from the cache, when it is on
    revocation.revoke_family(token.family, by="admin")
    response = get(url, token.value)
    assert response.status_code == 401
    assert "revoked" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", PATHS)
def test_requests_oauthlib_session_reaches_the_resource(
    live_server, transactional_db, monkeypatch, path
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the live server is plain http
    token = factories.AccessTokenFactory(scope="read")
    session = OAuth2Session(
        token.client.client_id, token={"access_token": token.value, "token_type": "Bearer"}
    )
    response = session.get(live_server.url + path, timeout=10)
    assert response.status_code == 200
    assert response.json()["scopes"] == ["read"]
