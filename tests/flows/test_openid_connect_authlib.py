"""A relying party built on Authlib's OpenID Connect client signs a user in against the
live server: discovery, code flow with PKCE and nonce, the ID token validated against the
JWKS (signature, iss, aud, exp, nonce, at_hash), UserInfo, a refresh."""

from __future__ import annotations

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.django_client import OAuth
from joserfc.errors import JoseError

from tests import factories
from tests.oauth_helpers import query_of

REDIRECT_URI = "http://127.0.0.1:40321/callback"
SIGNED_OUT = "http://127.0.0.1:40321/signed-out"


@pytest.fixture
def relying_party(live_server, db):
    client = factories.ClientFactory(
        redirect_uris=REDIRECT_URI, post_logout_redirect_uris=SIGNED_OUT
    )
    oauth = OAuth()
    return client, oauth.register(
        "oauthflow",
        client_id=client.client_id,
        client_secret=client.secret,
        # Only the issuer's address: everything else comes from discovery.
        server_metadata_url=live_server.url + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )


def _sign_in(rp, browser, nonce: str) -> dict:
    verifier = generate_token(48)
    started = rp.create_authorization_url(REDIRECT_URI, nonce=nonce, code_verifier=verifier)
    location = browser.consent(started["url"])
    params = query_of(location)
    assert params["state"] == started["state"]
    assert params["iss"] == rp.load_server_metadata()["issuer"]
    return rp.fetch_access_token(
        redirect_uri=REDIRECT_URI, code=params["code"], code_verifier=verifier
    )


def test_authlib_relying_party_signs_in(live_server, browser, relying_party):
    client, rp = relying_party
    nonce = generate_token(20)
    token = _sign_in(rp, browser, nonce=nonce)
    # parse_id_token validates the signature against the JWKS, then iss, aud, exp, iat,
    # the nonce, and at_hash against the access token.
    claims = rp.parse_id_token(token, nonce=nonce)
    assert claims["aud"] == client.client_id and claims["email"] == browser.user.email

    userinfo = rp.userinfo(token=token)
    assert userinfo["sub"] == claims["sub"] and userinfo["preferred_username"] == "alice"

    refreshed = rp.fetch_access_token(
        grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    again = rp.parse_id_token(refreshed, nonce=None)
    assert again["sub"] == claims["sub"] and again["auth_time"] == claims["auth_time"]


def test_authlib_refuses_a_wrong_nonce(live_server, browser, relying_party):
    _client, rp = relying_party
    token = _sign_in(rp, browser, nonce="the-real-one")
    with pytest.raises(JoseError, match="nonce"):
        rp.parse_id_token(token, nonce="another-one")


def test_authlib_relying_party_signs_out(live_server, browser, relying_party):
    """RP-Initiated Logout with the URL Authlib builds from discovery."""
    _client, rp = relying_party
    token = _sign_in(rp, browser, nonce=generate_token(20))
    logout = rp.create_logout_url(
        post_logout_redirect_uri=SIGNED_OUT, id_token_hint=token["id_token"]
    )
    response = browser.http.get(logout["url"], allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{SIGNED_OUT}?state={logout['state']}"
    # Signed out at the provider, and the sign-in's tokens ended with the session.
    apps = browser.http.get(live_server.url + "/oauth/authorized-apps/", allow_redirects=False)
    assert apps.status_code == 302
    with pytest.raises(requests.HTTPError, match="401"):
        rp.userinfo(token=token)
