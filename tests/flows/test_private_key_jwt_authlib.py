"""private_key_jwt (RFC 7523 §2.2) through Authlib's requests client against the live
server: ``OAuth2Session`` with ``authlib.oauth2.rfc7523.PrivateKeyJWT``, which signs a
client assertion (``aud`` the token endpoint, a fresh ``jti``) for each request with the
client's private key. The code flow with PKCE, the protected API, refresh, revocation
(with the same method) and client_credentials; then a replayed assertion and the wrong
key, refused.

Authlib signs assertions valid for an hour; oauthflow takes them up to
``CLIENT_ASSERTION_MAX_LIFETIME`` (5 minutes) ahead. :class:`ShortLived` asks Authlib for
two minutes through its own ``expires_in`` argument (``claims={"exp": ...}`` would not
do: Authlib writes its ``jti`` into that dict, so every later assertion would repeat it).
The first test shows the hour-long default refused.
"""

from __future__ import annotations

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign

from oauthflow.models import AccessToken, RefreshToken
from oauthflow.private_key_jwt.models import UsedAssertion
from tests import factories
from tests.private_key_jwt.helpers import ClientKey

pytestmark = pytest.mark.live

REDIRECT_URI = "https://app.example.com/callback"


class ShortLived(PrivateKeyJWT):
    """Authlib's PrivateKeyJWT, its assertions valid for two minutes."""

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            claims=self.claims,
            header=self.headers,
            alg=self.alg,
            expires_in=120,
        )


def session(issuer: str, client_app, key: ClientKey, method=ShortLived, **extra) -> OAuth2Session:
    auth = method(issuer + "/oauth/token/", alg=key.alg, headers={"kid": key.kid})
    return OAuth2Session(
        client_id=client_app.client_id,
        client_secret=key.key,
        token_endpoint_auth_method=auth,
        revocation_endpoint_auth_method=auth,
        code_challenge_method="S256",
        default_timeout=10,
        **extra,
    )


def test_authlibs_hour_long_assertions_are_refused(live_server, transactional_db):
    key = ClientKey("ES256")
    machine = factories.ClientFactory(
        grant_types="client_credentials",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    issuer = live_server.url
    with pytest.raises(OAuthError) as refused:
        session(issuer, machine, key, method=PrivateKeyJWT, scope="read").fetch_token(
            issuer + "/oauth/token/", grant_type="client_credentials"
        )
    assert refused.value.error == "invalid_client"
    assert not UsedAssertion.objects.exists()


def test_authlib_code_flow_refresh_and_revoke(live_server, browser):
    key = ClientKey("ES256")
    web = factories.ClientFactory(
        redirect_uris=REDIRECT_URI, token_endpoint_auth_method="private_key_jwt", jwks=key.jwks()
    )
    issuer = live_server.url
    oauth = session(issuer, web, key, scope="read", redirect_uri=REDIRECT_URI)
    verifier = generate_token(48)
    url, _ = oauth.create_authorization_url(issuer + "/oauth/authorize/", code_verifier=verifier)
    callback = browser.consent(url)
    token = oauth.fetch_token(
        issuer + "/oauth/token/", authorization_response=callback, code_verifier=verifier
    )
    me = oauth.get(issuer + "/api/read/")
    assert me.status_code == 200, me.text

    refreshed = oauth.refresh_token(issuer + "/oauth/token/", refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    revoked = oauth.revoke_token(issuer + "/oauth/revoke/", refreshed["refresh_token"])
    assert revoked.status_code == 200, revoked.text
    assert not RefreshToken.objects.filter(client=web, revoked_at__isnull=True).exists()
    assert UsedAssertion.objects.count() == 3


def test_authlib_client_credentials_and_refusals(live_server, transactional_db):
    key = ClientKey("RS256")
    machine = factories.ClientFactory(
        grant_types="client_credentials",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    issuer = live_server.url
    token = session(issuer, machine, key, scope="read").fetch_token(
        issuer + "/oauth/token/", grant_type="client_credentials"
    )
    assert token["token_type"] == "Bearer"
    assert AccessToken.objects.filter(client=machine).count() == 1

    # The same assertion again, as an eavesdropper would replay it.
    assertion = ShortLived(issuer + "/oauth/token/", alg="RS256", headers={"kid": key.kid}).sign(
        type("Auth", (), {"client_id": machine.client_id, "client_secret": key.key})(),
        issuer + "/oauth/token/",
    )
    form = {
        "grant_type": "client_credentials",
        "scope": "read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    first = requests.post(issuer + "/oauth/token/", data=form, timeout=10)
    again = requests.post(issuer + "/oauth/token/", data=form, timeout=10)
    assert first.status_code == 200, first.text
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"

    stranger = ClientKey("RS256")
    with pytest.raises(OAuthError) as refused:
        session(issuer, machine, stranger, scope="read").fetch_token(
            issuer + "/oauth/token/", grant_type="client_credentials"
        )
    assert refused.value.error == "invalid_client"
    assert AccessToken.objects.filter(client=machine).count() == 2
