"""Sign-in with OpenID Connect through panva's openid-client (Node, v6 on oauth4webapi),
a strict relying party, against the live server.

tests/flows/node/rp.mjs is the relying party; this test drives it one step at a time
(JSON lines on its stdin and stdout) and plays the user's browser between the steps.
The library validates the authorization response (state, and ``iss`` as RFC 9207 asks
when the metadata says it is supported), sends PKCE, and checks the ID token: its JWS
signature against the JWKS (``enableNonRepudiationChecks``), iss, aud, exp, iat, sub and
nonce; the UserInfo sub against the ID token's. The script checks at_hash itself (the
library does not in the code flow). The negative cases show the library really refuses
what it should, so a passing flow means something. Signing out goes through the URL the
library builds for the end_session_endpoint (RP-Initiated Logout 1.0).

Needs Node.js (CI has it): the test fails, not skips, without it. The npm packages,
pinned in tests/flows/node/package-lock.json, are installed on first use.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from oauthflow.models import AccessToken
from oauthflow.subjects import pairwise_subject, public_subject
from tests import factories
from tests.flows.node_script import running
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

#: How long one step may take (a discovery, a token exchange with a JWKS fetch...).
STEP_TIMEOUT = 20


@pytest.fixture
def rp(node):
    """The running rp.mjs: ``rp.step(op, **fields)`` sends one request, returns the reply."""
    with running(node, "rp.mjs", STEP_TIMEOUT) as party:
        yield party


def with_params(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (or, given None, removed)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


# The two registrations exercised: a confidential web app (client_secret_basic, RS256,
# public subject) and a native app (no secret, loopback redirect, ES256, pairwise subject).
CLIENTS = {
    "confidential-RS256-public-sub": dict(
        factory=factories.ClientFactory,
        redirect_uri="https://rp.example.com/callback",
        registered="https://rp.example.com/callback",
        post_logout="https://rp.example.com/signed-out",
        alg="RS256",
        subject_type="public",
    ),
    "public-ES256-pairwise-sub": dict(
        factory=factories.PublicClientFactory,
        redirect_uri="http://127.0.0.1:49152/callback",  # a native app's ephemeral port
        registered="http://127.0.0.1/callback",
        post_logout="http://127.0.0.1:49152/signed-out",
        alg="ES256",
        subject_type="pairwise",
    ),
}


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_openid_client_signs_alice_in(live_server, browser, rp, kind):
    spec = CLIENTS[kind]
    client_app = spec["factory"](
        redirect_uris=spec["registered"],
        id_token_signed_response_alg=spec["alg"],
        subject_type=spec["subject_type"],
    )
    user = browser.user
    expected_sub = (
        public_subject(user)
        if spec["subject_type"] == "public"
        else pairwise_subject(user, "127.0.0.1")
    )
    issuer = live_server.url

    # Discovery: the library insists the document's issuer is the URL it was given.
    metadata = rp.ok(
        "discover",
        issuer=issuer,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        alg=spec["alg"],
    )["metadata"]
    assert metadata["issuer"] == issuer
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert spec["alg"] in metadata["id_token_signing_alg_values_supported"]

    # The authorization request, as the library builds it.
    start = rp.ok(
        "start", flow="main", redirect_uri=spec["redirect_uri"], scope="openid profile email"
    )
    request = query_of(start["url"])
    assert start["url"].startswith(metadata["authorization_endpoint"] + "?")
    assert request["code_challenge_method"] == "S256"
    assert request["state"] == start["state"]
    assert request["nonce"] == start["nonce"]
    assert request["redirect_uri"] == spec["redirect_uri"]

    location = browser.consent(start["url"])
    assert location.startswith(spec["redirect_uri"] + "?")
    response = query_of(location)
    assert response["iss"] == issuer
    assert response["state"] == start["state"]

    # RFC 9207: the metadata promises iss, so the library refuses a response without it
    # or with another; and a wrong state. All before the code is sent anywhere.
    error = rp.refused("callback", flow="main", url=with_params(location, iss=None))
    assert error["reason"] == 'response parameter "iss" (issuer) missing', error
    error = rp.refused(
        "callback", flow="main", url=with_params(location, iss="https://evil.example.com")
    )
    assert error["reason"] == 'unexpected "iss" (issuer) response parameter value', error
    error = rp.refused("callback", flow="main", url=with_params(location, state="forged"))
    assert error["reason"] == 'unexpected "state" response parameter value', error

    # The code exchange (PKCE verifier, redirect_uri) and the ID token's validation.
    signed_in = rp.ok("callback", flow="main", url=location)
    claims = signed_in["claims"]
    assert claims["iss"] == issuer
    assert claims["aud"] == client_app.client_id
    assert claims["sub"] == expected_sub
    assert claims["nonce"] == start["nonce"]
    assert claims["exp"] > claims["iat"]
    assert isinstance(claims["auth_time"], int)
    assert claims["email"] == user.email
    assert signed_in["at_hash_matches"] is True
    assert signed_in["id_token_header"]["alg"] == spec["alg"]
    assert sorted(signed_in["scope"].split()) == ["email", "openid", "profile"]
    assert signed_in["token_type"] == "bearer"  # the library lower-cases it
    assert signed_in["has_refresh_token"]
    assert AccessToken.objects.filter(user=user, client=client_app).count() == 1

    # UserInfo: the library compares its sub with the ID token's.
    userinfo = rp.ok("userinfo", flow="main")["userinfo"]
    assert userinfo["sub"] == expected_sub
    assert userinfo["email"] == user.email
    error = rp.refused("userinfo", flow="main", expected_sub="someone-else")
    assert error["reason"] == 'unexpected "response" body "sub" property value', error

    # A refresh: a fresh, valid ID token for the same sign-in (Core §12.2).
    refreshed = rp.ok("refresh", flow="main")
    fresh = refreshed["claims"]
    assert refreshed["access_token_changed"] and refreshed["refresh_token_rotated"]
    assert refreshed["at_hash_matches"] is True
    assert fresh["sub"] == claims["sub"]
    assert fresh["iss"] == claims["iss"]
    assert fresh["aud"] == claims["aud"]
    assert fresh["auth_time"] == claims["auth_time"]
    assert fresh["iat"] >= claims["iat"]
    # UserInfo with the new access token, against the same sub.
    assert rp.ok("userinfo", flow="main")["userinfo"]["sub"] == expected_sub

    # The same code again: the server refuses it, and revokes what it issued (RFC 6749
    # §4.1.2), refreshed tokens included; the library reports the bearer challenge.
    error = rp.refused("callback", flow="main", url=location)
    assert error["error"] == "invalid_grant", error
    error = rp.refused("userinfo", flow="main")
    assert error["status"] == 401, error
    assert error["challenges"][0]["scheme"] == "bearer", error
    assert error["challenges"][0]["parameters"]["error"] == "invalid_token", error


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"expected_nonce": "not-the-nonce-sent"}, 'unexpected ID Token "nonce" claim value'),
        # A claim changed under the server's signature: only the signature check sees it.
        ({"tamper": "payload"}, "JWT signature verification failed"),
        ({"tamper": "signature"}, "JWT signature verification failed"),
    ],
    ids=["wrong-nonce", "forged-claim", "damaged-signature"],
)
def test_openid_client_refuses_a_bad_id_token(live_server, browser, rp, expect, message):
    client_app = factories.ClientFactory(redirect_uris="https://rp.example.com/callback")
    rp.ok(
        "discover",
        issuer=live_server.url,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        alg="RS256",
    )
    start = rp.ok(
        "start", flow="bad", redirect_uri="https://rp.example.com/callback", scope="openid email"
    )
    location = browser.consent(start["url"])
    error = rp.refused("callback", flow="bad", url=location, **expect)
    assert error["reason"] == message, error
    assert "error" not in error  # the library's refusal, not an OAuth error from the server


def signed_in_at_provider(browser) -> bool:
    """The browser's session is signed in at the provider: the user's own page shows,
    not a redirect to the login page."""
    page = browser.http.get(browser.base_url + "/oauth/authorized-apps/", allow_redirects=False)
    if page.status_code == 200:
        return True
    assert page.status_code == 302, page.text
    assert urlsplit(page.headers["Location"]).path == "/accounts/login/", page.headers
    return False


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_openid_client_signs_alice_out(live_server, browser, rp, kind):
    """RP-Initiated Logout 1.0 through the URL openid-client builds: with the ID token as
    id_token_hint the user is signed out at once and sent back to the registered URI with
    the state; the sign-in's tokens are revoked with the session."""
    spec = CLIENTS[kind]
    back = spec["post_logout"]
    client_app = spec["factory"](
        redirect_uris=spec["registered"],
        post_logout_redirect_uris=back,
        id_token_signed_response_alg=spec["alg"],
        subject_type=spec["subject_type"],
    )
    issuer = live_server.url
    metadata = rp.ok(
        "discover",
        issuer=issuer,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        alg=spec["alg"],
    )["metadata"]
    assert metadata["end_session_endpoint"] == issuer + "/oauth/logout/"
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True

    start = rp.ok("start", flow="main", redirect_uri=spec["redirect_uri"], scope="openid email")
    location = browser.consent(start["url"])
    claims = rp.ok("callback", flow="main", url=location)["claims"]
    assert rp.ok("userinfo", flow="main")["userinfo"]["sub"] == claims["sub"]
    assert signed_in_at_provider(browser)

    # A post_logout_redirect_uri the client did not register: an error page, no redirect,
    # and the user stays signed in.
    built = rp.ok(
        "logout", flow="main", post_logout_redirect_uri="https://evil.example.com/signed-out"
    )
    response = browser.http.get(built["url"], allow_redirects=False)
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert signed_in_at_provider(browser)

    # No id_token_hint (the library still sends client_id): the user is asked to confirm
    # rather than signed out by a link.
    built = rp.ok("logout", flow="main", post_logout_redirect_uri=back, hint=False)
    assert "id_token_hint" not in query_of(built["url"])
    response = browser.http.get(built["url"], allow_redirects=False)
    assert response.status_code == 200, response.text
    assert "Location" not in response.headers
    assert signed_in_at_provider(browser)
    assert rp.ok("userinfo", flow="main")["userinfo"]["sub"] == claims["sub"]

    # The logout the relying party asks for, as the library builds it.
    built = rp.ok("logout", flow="main", post_logout_redirect_uri=back)
    assert built["url"].startswith(metadata["end_session_endpoint"] + "?")
    request = query_of(built["url"])
    assert request["post_logout_redirect_uri"] == back
    assert request["state"] == built["state"]
    # §2: with a post_logout_redirect_uri, client_id or id_token_hint must come too. The
    # library always adds client_id, and the hint is the ID token of the sign-in.
    assert "client_id" in request or "id_token_hint" in request
    assert request["client_id"] == client_app.client_id
    assert request["id_token_hint"] == built["id_token_hint"]
    hint_claims = json.loads(base64.urlsafe_b64decode(built["id_token_hint"].split(".")[1] + "=="))
    assert hint_claims["sub"] == claims["sub"]
    assert hint_claims["aud"] == client_app.client_id

    response = browser.http.get(built["url"], allow_redirects=False)
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"{back}?{urlencode({'state': built['state']})}"
    assert query_of(response.headers["Location"])["state"] == built["state"]

    # Signed out at the provider, and the sign-in's tokens revoked with the session.
    assert not signed_in_at_provider(browser)
    error = rp.refused("userinfo", flow="main")
    assert error["status"] == 401, error
    assert error["challenges"][0]["scheme"] == "bearer", error
    assert error["challenges"][0]["parameters"]["error"] == "invalid_token", error
    error = rp.refused("refresh", flow="main")
    assert error["error"] == "invalid_grant", error
