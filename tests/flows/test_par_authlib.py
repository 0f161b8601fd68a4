"""Pushed authorization requests (RFC 9126) through Authlib's requests client
(``authlib.integrations.requests_client.OAuth2Session``) against the live server.

Authlib has no PAR helper, so the client does what RFC 9126 §2.1 describes with the
session's own pieces: ``create_authorization_url`` makes the authorization request
(PKCE S256, state), its parameters are POSTed to the pushed authorization request
endpoint with the session's client authentication (``session.client_auth(...)``, as
``fetch_token`` uses at the token endpoint), and the browser gets a URL of ``client_id``
and ``request_uri`` only. ``fetch_token(authorization_response=...)`` then checks the
callback's ``state`` (raising ``MismatchingStateException`` otherwise) and sends the
PKCE verifier; the token reaches a protected API.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException

from oauthflow import tokens
from oauthflow.models import AccessToken, AuthorizationCode
from oauthflow.par.models import PushedRequest
from tests import factories
from tests.flows.conftest import Browser
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
CONFIDENTIAL = ["https://app.example.com/callback", "https://app.example.com/pushed"]
PUBLIC = ["http://127.0.0.1/callback", "http://127.0.0.1/pushed"]


def metadata(issuer: str) -> dict:
    response = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10)
    assert response.status_code == 200
    return response.json()


def new_session(client_app, auth_method: str, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=client_app.client_id,
        client_secret=client_app.secret if auth_method != "none" else None,
        token_endpoint_auth_method=auth_method,
        scope="read",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=10,
    )


def push(session: OAuth2Session, meta: dict, **extra) -> tuple[requests.Response, dict]:
    """The authorization request Authlib would send the browser, POSTed to the pushed
    authorization request endpoint instead, with the token endpoint's client
    authentication. Returns the response and what was pushed (state, verifier...)."""
    verifier = generate_token(48)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, **extra
    )
    pairs = parse_qsl(urlsplit(url).query)
    if session.token_endpoint_auth_method != "client_secret_basic":
        # client_secret_post and none put client_id in the body themselves; once only.
        pairs = [(k, v) for k, v in pairs if k != "client_id"]
    response = session.post(
        meta["pushed_authorization_request_endpoint"],
        data=pairs,
        auth=session.client_auth(session.token_endpoint_auth_method),
        withhold_token=True,
        allow_redirects=False,
    )
    return response, {"state": state, "verifier": verifier, "pairs": dict(pairs)}


def by_reference(meta: dict, client_app, request_uri: str) -> str:
    return add_params_to_uri(
        meta["authorization_endpoint"],
        [("client_id", client_app.client_id), ("request_uri", request_uri)],
    )


CASES = {
    "client_secret_basic": dict(factory=factories.ClientFactory, uris=CONFIDENTIAL),
    "client_secret_post": dict(factory=factories.ClientFactory, uris=CONFIDENTIAL),
    "none": dict(factory=factories.PublicClientFactory, uris=PUBLIC),
    "client_secret_basic-site-requires-par": dict(
        factory=factories.ClientFactory, uris=CONFIDENTIAL
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_authlib_session_pushes_then_fetches_the_token(live_server, browser, settings, case):
    spec = CASES[case]
    auth_method = case.removesuffix("-site-requires-par")
    if case.endswith("-site-requires-par"):
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    client_app = spec["factory"](redirect_uris=" ".join(spec["uris"]))
    issuer = live_server.url
    meta = metadata(issuer)
    assert meta["pushed_authorization_request_endpoint"] == issuer + "/oauth/par/"
    assert meta.get("require_pushed_authorization_requests", False) is case.endswith("-par")
    redirect_uri = spec["uris"][1]  # not the first registered: it must come from the push
    session = new_session(client_app, auth_method, redirect_uri)

    pushed, sent = push(session, meta)

    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Content-Type"] == "application/json"
    assert pushed.headers["Cache-Control"] == "no-store"
    assert "Location" not in pushed.headers
    # The session authenticated as registered: Basic, the secret in the body, or only its id.
    sent_auth = pushed.request.headers.get("Authorization", "")
    sent_form = dict(parse_qsl(pushed.request.body))
    assert sent_auth.startswith("Basic ") is (auth_method == "client_secret_basic")
    assert ("client_secret" in sent_form) is (auth_method == "client_secret_post")
    assert sent_form["client_id"] == client_app.client_id
    body = pushed.json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["request_uri"].startswith(URN_PREFIX) and body["expires_in"] == 60
    row = PushedRequest.objects.get(digest=tokens.digest(body["request_uri"]))
    assert row.client == client_app and row.used_at is None
    assert dict(row.parameters)["redirect_uri"] == redirect_uri

    url = by_reference(meta, client_app, body["request_uri"])
    assert {k for k, _ in parse_qsl(urlsplit(url).query)} == {"client_id", "request_uri"}
    location = browser.consent(url)
    assert location.startswith(redirect_uri + "?"), location
    row.refresh_from_db()
    assert row.used_at is not None

    # Another browser presenting the same URL gets an error page.
    factories.UserFactory(username="mallory")
    other = Browser(issuer)
    other.sign_in("mallory")
    stolen = other.http.get(url, allow_redirects=False)
    assert stolen.status_code == 400, stolen.text
    assert "invalid_request_uri" in stolen.text

    # Authlib checks state: a wrong expected state stops it before any token request.
    with pytest.raises(MismatchingStateException):
        session.fetch_token(
            meta["token_endpoint"],
            authorization_response=location,
            state="not-the-pushed-state",
            code_verifier=sent["verifier"],
        )
    code = AuthorizationCode.objects.get(digest=tokens.digest(query_of(location)["code"]))
    assert code.redeemed_at is None

    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=location,
        state=sent["state"],
        code_verifier=sent["verifier"],
    )
    assert token["token_type"] == "Bearer" and token["scope"] == "read"

    code.refresh_from_db()
    assert code.redeemed_at is not None
    assert code.user == browser.user and code.client == client_app
    assert code.redirect_uri == redirect_uri and code.scope == "read"
    assert code.code_challenge == sent["pairs"]["code_challenge"]
    access = AccessToken.objects.get(digest=tokens.digest(token["access_token"]))
    assert access.user == browser.user and access.client == client_app

    api = session.get(issuer + "/api/read/")
    assert api.status_code == 200, api.text
    assert api.json()["user"] == "alice"
    assert api.json()["client_id"] == client_app.client_id
    assert api.json()["scopes"] == ["read"]


def test_authlib_browser_cannot_change_what_was_pushed(live_server, browser):
    """Parameters added to the browser's URL are ignored: the redirect URI, scope, state
    and PKCE challenge are the pushed ones."""
    client_app = factories.ClientFactory(redirect_uris=" ".join(CONFIDENTIAL))
    meta = metadata(live_server.url)
    session = new_session(client_app, "client_secret_basic", CONFIDENTIAL[1])
    pushed, sent = push(session, meta)
    assert pushed.status_code == 201, pushed.text
    url = add_params_to_uri(
        by_reference(meta, client_app, pushed.json()["request_uri"]),
        [
            ("redirect_uri", CONFIDENTIAL[0]),
            ("scope", "read write"),
            ("state", "the-attackers"),
            ("code_challenge", "A" * 43),
        ],
    )

    location = browser.consent(url)

    assert location.startswith(CONFIDENTIAL[1] + "?"), location
    assert query_of(location)["state"] == sent["state"]
    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=location,
        state=sent["state"],
        code_verifier=sent["verifier"],
    )
    assert token["scope"] == "read"
    code = AuthorizationCode.objects.get(digest=tokens.digest(query_of(location)["code"]))
    assert code.scope == "read" and code.redirect_uri == CONFIDENTIAL[1]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
        ({"scope": "read admin"}, "invalid_scope"),
        ({"request_uri": URN_PREFIX + "x"}, "invalid_request"),
    ],
)
def test_authlib_push_errors_are_json(live_server, transactional_db, extra, error):
    """Errors at the push go to the client in JSON (RFC 9126 §2.3), never by redirect,
    and leave no pushed request behind."""
    client_app = factories.ClientFactory(redirect_uris=CONFIDENTIAL[0])
    meta = metadata(live_server.url)
    session = new_session(client_app, "client_secret_post", CONFIDENTIAL[0])

    response, _ = push(session, meta, **extra)

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert "Location" not in response.headers
    assert response.json()["error"] == error
    assert not PushedRequest.objects.exists()


def test_authlib_push_without_client_authentication(live_server, transactional_db):
    client_app = factories.ClientFactory(redirect_uris=CONFIDENTIAL[0])
    meta = metadata(live_server.url)
    # A confidential client that sends only its client_id.
    session = new_session(client_app, "none", CONFIDENTIAL[0])

    response, _ = push(session, meta)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert not PushedRequest.objects.exists()


def test_authlib_a_head_request_does_not_use_the_reference(live_server, browser):
    """A link checker's HEAD is refused without using the single-use reference up: the
    user's browser still gets the consent page, then the code."""
    client_app = factories.ClientFactory(redirect_uris=CONFIDENTIAL[0])
    meta = metadata(live_server.url)
    session = new_session(client_app, "client_secret_basic", CONFIDENTIAL[0])
    pushed, sent = push(session, meta)
    assert pushed.status_code == 201, pushed.text
    url = by_reference(meta, client_app, pushed.json()["request_uri"])

    checked = requests.head(url, allow_redirects=False, timeout=10)

    assert checked.status_code == 400
    assert PushedRequest.objects.get().used_at is None
    location = browser.consent(url)
    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=location,
        state=sent["state"],
        code_verifier=sent["verifier"],
    )
    assert token["scope"] == "read"
