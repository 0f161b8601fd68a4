"""Pushed authorization requests (RFC 9126) through panva's openid-client (Node, v6 on
oauth4webapi) against the live server.

tests/flows/node/par.mjs is the client; this test drives it one step at a time (JSON
lines on its stdin and stdout) and plays the user's browser between the steps. The
library's ``buildAuthorizationUrlWithPAR`` authenticates as at the token endpoint, POSTs
the authorization parameters to ``pushed_authorization_request_endpoint`` (from
discovery), checks the 201 response (``request_uri`` a string, ``expires_in`` a number)
and builds the authorization URL from ``client_id`` and ``request_uri`` alone. Its
``authorizationCodeGrant`` then checks the callback (``state``, ``iss``), sends the PKCE
verifier, and validates the ID token (JWS signature against the JWKS, iss, aud, exp...).
The script's ``customFetch`` records each HTTP exchange, so the test sees what was pushed
and what the server answered; the database shows what the server made of it.

openid-client 6.9.0 reads ``require_pushed_authorization_requests`` into the server
metadata it returns, but nothing in it acts on it: ``buildAuthorizationUrl`` still builds
a full, unpushed URL. The server is what refuses it, by redirect to the client, which
the library reports as an ``AuthorizationResponseError`` (see
``test_openid_client_when_par_is_required``).

Needs Node.js (CI has it): the tests fail, not skip, without it. The npm packages,
pinned in tests/flows/node/package-lock.json, are installed on first use.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from oauthflow import tokens
from oauthflow.models import AccessToken, AuthorizationCode
from oauthflow.par.models import PushedRequest
from tests import factories
from tests.flows.conftest import Browser
from tests.flows.node_script import running
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

#: How long one step may take (a discovery, a push, a token exchange with a JWKS fetch).
STEP_TIMEOUT = 15
URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: What the library pushes besides client authentication.
PUSHED = {
    "client_id",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
}


@pytest.fixture
def par_client(node):
    """The running par.mjs: ``par_client.step(op, **fields)`` sends one request, returns
    the reply."""
    with running(node, "par.mjs", STEP_TIMEOUT) as started:
        yield started


def discover(par_client, issuer: str, client_app, auth: str, algorithm: str = "oidc") -> dict:
    metadata = par_client.ok(
        "discover",
        issuer=issuer,
        client_id=client_app.client_id,
        client_secret=client_app.secret,
        auth=auth,
        algorithm=algorithm,
    )["metadata"]
    par_client.exchanges()  # the discovery's own
    return metadata


def second_browser(base_url: str, username: str = "mallory") -> Browser:
    """Another user's browser, signed in."""
    factories.UserFactory(username=username)
    other = Browser(base_url)
    other.sign_in(username)
    return other


def split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qsl(parts.query)


# The registrations exercised, how the library authenticates them, and which metadata
# document it discovers (both advertise the pushed authorization request endpoint).
CLIENTS = {
    "public-none-openid-configuration": dict(
        factory=factories.PublicClientFactory,
        auth="none",
        algorithm="oidc",
        redirect_uris=["http://127.0.0.1/callback", "http://127.0.0.1/pushed"],
    ),
    "confidential-basic-oauth-authorization-server": dict(
        factory=factories.ClientFactory,
        auth="basic",
        algorithm="oauth2",
        redirect_uris=["https://rp.example.com/callback", "https://rp.example.com/pushed"],
    ),
    "confidential-post-openid-configuration": dict(
        factory=factories.ClientFactory,
        auth="post",
        algorithm="oidc",
        redirect_uris=["https://rp.example.com/callback", "https://rp.example.com/pushed"],
    ),
}


@pytest.mark.parametrize("kind", list(CLIENTS))
def test_openid_client_pushes_the_request_then_redeems_the_code(
    live_server, browser, par_client, kind
):
    spec = CLIENTS[kind]
    client_app = spec["factory"](redirect_uris=" ".join(spec["redirect_uris"]))
    issuer = live_server.url
    par_endpoint = issuer + "/oauth/par/"
    # The second registered URI: where the code goes can only have come from the push.
    redirect_uri = spec["redirect_uris"][1]

    metadata = discover(par_client, issuer, client_app, spec["auth"], spec["algorithm"])
    assert metadata["pushed_authorization_request_endpoint"] == par_endpoint
    assert "require_pushed_authorization_requests" not in metadata

    started = par_client.ok(
        "start", flow="main", redirect_uri=redirect_uri, scope="openid read", par=True
    )

    # The push: one authenticated POST with every authorization parameter, 201 in JSON.
    [push] = par_client.exchanges()
    assert (push["method"], push["url"], push["status"]) == ("POST", par_endpoint, 201), push
    assert push["content_type"] == "application/json"
    form = dict(push["form"])
    expected_form = PUSHED | ({"client_secret"} if spec["auth"] == "post" else set())
    assert set(form) == expected_form, push
    assert len(push["form"]) == len(form)  # nothing repeated
    assert form["client_id"] == client_app.client_id
    assert form["redirect_uri"] == redirect_uri
    assert form["state"] == started["state"]
    assert form["code_challenge_method"] == "S256"
    assert push["authorization_scheme"] == ("Basic" if spec["auth"] == "basic" else None)
    request_uri = push["body"]["request_uri"]
    assert request_uri.startswith(URN_PREFIX)
    assert len(request_uri) > len(URN_PREFIX) + 40  # 32 random bytes
    assert push["body"]["expires_in"] == 60

    # Server-side: the row holds what was pushed, waiting, found by the digest only.
    row = PushedRequest.objects.get(digest=tokens.digest(request_uri))
    assert row.client == client_app
    assert row.used_at is None
    kept = dict(row.parameters)
    assert kept["redirect_uri"] == redirect_uri
    assert kept["scope"] == "openid read"
    assert kept["code_challenge"] == form["code_challenge"]
    assert "client_secret" not in kept

    # The browser's URL carries the reference and the client_id, nothing else.
    where, query = split_url(started["url"])
    assert where == issuer + "/oauth/authorize/"
    assert sorted(query) == sorted(
        [("client_id", client_app.client_id), ("request_uri", request_uri)]
    )
    for name in ("redirect_uri", "scope", "code_challenge", "state", "response_type"):
        assert name not in dict(query)

    location = browser.consent(started["url"])
    assert location.startswith(redirect_uri + "?"), location
    params = query_of(location)
    assert params["state"] == started["state"]  # the pushed state, never in a URL before
    assert params["iss"] == issuer
    row.refresh_from_db()
    assert row.used_at is not None

    # Another browser presenting the same URL is refused with an error page, no redirect.
    stolen = second_browser(issuer).http.get(started["url"], allow_redirects=False)
    assert stolen.status_code == 400, stolen.text
    assert "Location" not in stolen.headers
    assert "invalid_request_uri" in stolen.text

    # Once the code is sent, the same browser no longer holds the request: opening the
    # URL again (Back, a reload) gets an error page, not a second code.
    again = browser.http.get(started["url"], allow_redirects=False)
    assert again.status_code == 400, again.text
    assert "Location" not in again.headers

    # The library checks state and iss, sends the verifier, validates the ID token.
    redeemed = par_client.ok("callback", flow="main", url=location)
    # (The other exchange is the JWKS fetch for the ID token's signature.)
    [token_exchange] = [e for e in par_client.exchanges() if e["url"] == metadata["token_endpoint"]]
    assert token_exchange["status"] == 200
    sent = dict(token_exchange["form"])
    assert sent["redirect_uri"] == redirect_uri and sent["code"] == params["code"]
    assert "code_verifier" in sent

    claims = redeemed["claims"]
    assert claims["iss"] == issuer and claims["aud"] == client_app.client_id
    assert redeemed["tokens"]["token_type"] == "bearer"  # the library lower-cases it
    assert sorted(redeemed["tokens"]["scope"].split()) == ["openid", "read"]

    # The code was issued for the pushed request: its redirect URI, scope and challenge.
    code = AuthorizationCode.objects.get(digest=tokens.digest(params["code"]))
    assert code.client == client_app and code.user == browser.user
    assert code.redirect_uri == redirect_uri
    assert sorted(code.scope.split()) == ["openid", "read"]
    assert code.code_challenge == form["code_challenge"]
    assert code.code_challenge_method == "S256"
    assert code.redeemed_at is not None
    access = AccessToken.objects.get(digest=tokens.digest(redeemed["tokens"]["access_token"]))
    assert access.user == browser.user and access.client == client_app
    assert sorted(access.scope.split()) == ["openid", "read"]
    assert PushedRequest.objects.count() == 1


@pytest.mark.parametrize("required_by", ["site", "client"])
def test_openid_client_when_par_is_required(
    live_server, browser, par_client, settings, required_by
):
    redirect_uri = "https://rp.example.com/callback"
    if required_by == "site":
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
        client_app = factories.ClientFactory(redirect_uris=redirect_uri)
    else:
        client_app = factories.ClientFactory(
            redirect_uris=redirect_uri, require_pushed_authorization_requests=True
        )
    issuer = live_server.url

    metadata = discover(par_client, issuer, client_app, "basic")
    if required_by == "site":
        assert metadata["require_pushed_authorization_requests"] is True
    else:
        # A client's own requirement is in its registration, not the server's metadata.
        assert "require_pushed_authorization_requests" not in metadata

    # The library does not act on the metadata: it builds the full URL, unpushed.
    plain = par_client.ok("start", flow="plain", redirect_uri=redirect_uri, scope="read", par=False)
    assert par_client.exchanges() == []
    assert dict(split_url(plain["url"])[1])["redirect_uri"] == redirect_uri
    # The server refuses it: the client and redirect URI are verified, so by redirect.
    location = browser.consent(plain["url"])
    assert location.startswith(redirect_uri + "?"), location
    refused = query_of(location)
    assert refused["error"] == "invalid_request"
    assert refused["state"] == plain["state"] and refused["iss"] == issuer
    assert "code" not in refused
    error = par_client.refused("callback", flow="plain", url=location)
    assert error["name"] == "AuthorizationResponseError", error
    assert error["error"] == "invalid_request", error
    assert par_client.exchanges() == []  # nothing went to the token endpoint
    assert not AuthorizationCode.objects.exists()

    # Pushed, the same request goes through.
    pushed = par_client.ok("start", flow="par", redirect_uri=redirect_uri, scope="read", par=True)
    [push] = par_client.exchanges()
    assert push["status"] == 201, push
    location = browser.consent(pushed["url"])
    assert "code" in query_of(location), location
    redeemed = par_client.ok("callback", flow="par", url=location)
    assert redeemed["tokens"]["scope"] == "read"
    access = AccessToken.objects.get(digest=tokens.digest(redeemed["tokens"]["access_token"]))
    assert access.client == client_app and access.user == browser.user


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"scope": "read admin"}, "invalid_scope"),
    ],
)
def test_openid_client_gets_push_errors_in_json(
    live_server, transactional_db, par_client, change, error
):
    """Errors at the push go to the client in JSON (RFC 9126 §2.3), never to a redirect
    URI, even an unregistered one, and leave no pushed request behind."""
    client_app = factories.ClientFactory(redirect_uris="https://rp.example.com/callback")
    discover(par_client, live_server.url, client_app, "post")
    fields = {"redirect_uri": "https://rp.example.com/callback", "scope": "read", **change}

    failed = par_client.refused("start", flow="bad", par=True, **fields)

    assert failed["name"] == "ResponseBodyError", failed
    assert failed["error"] == error, failed
    assert failed["status"] == 400, failed
    [push] = par_client.exchanges()
    assert push["url"] == live_server.url + "/oauth/par/"
    assert push["status"] == 400
    assert push["content_type"] == "application/json"
    assert push["location"] is None
    assert push["body"]["error"] == error
    assert not PushedRequest.objects.exists()


def test_openid_client_push_with_a_wrong_secret(live_server, transactional_db, par_client):
    client_app = factories.ClientFactory(redirect_uris="https://rp.example.com/callback")
    client_app.secret = "not-the-secret"
    discover(par_client, live_server.url, client_app, "basic")

    failed = par_client.refused(
        "start", flow="bad", redirect_uri="https://rp.example.com/callback", scope="read", par=True
    )

    # A 401 whose Basic challenge carries the error (RFC 6749 §5.2).
    assert failed["name"] == "WWWAuthenticateChallengeError", failed
    assert failed["status"] == 401, failed
    [challenge] = failed["challenges"]
    assert challenge["parameters"]["error"] == "invalid_client", failed
    assert not PushedRequest.objects.exists()
