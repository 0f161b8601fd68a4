"""A single-page app on a second loopback origin, in headless Chromium: its script
redeems a code (PKCE, DPoP, so a preflight) with fetch(), reads the answer, calls
UserInfo and revokes; a page on a third origin can read nothing, and the provider refused
its request.

The provider is the example site on Django's live server (tests/browser/conftest.py);
each page is served by a small static server of its own on 127.0.0.1, so the three are
three origins (another port is another origin). See docs/cors.md.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.signals import request_started

from oauthflow.models import AccessToken, AuthorizationCode
from tests import factories
from tests.flows.conftest import browser  # noqa: F401 (a signed-in user's HTTP session)
from tests.oauth_helpers import authorize_params, new_verifier, query_of

SPA_DIR = Path(__file__).resolve().parent / "spa_site"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_origin() -> Iterator[Callable[[], str]]:
    """``static_origin()``: serve SPA_DIR on a new port of 127.0.0.1; its origin."""
    servers = []

    def start() -> str:
        handler = functools.partial(_Quiet, directory=str(SPA_DIR))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(live_server, settings):
    # Nonces make the provider's first answer use_dpop_nonce: the page retries only if it
    # can read the DPoP-Nonce header, so the exposed headers are tested too.
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DPOP_NONCES": True}
    return live_server.url


def code_for(browser, client, verifier: str) -> str:  # noqa: F811
    params = authorize_params(client, verifier=verifier, scope="openid read")
    location = browser.consent(browser.base_url + "/oauth/authorize/?" + urlencode(params))
    return query_of(location)["code"]


def open_page(chromium, url: str):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    problems: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url + "/index.html")
    return context, page, console, problems


def params(provider: str, client, code: str, verifier: str) -> dict:
    return {
        "tokenUrl": provider + "/oauth/token/",
        "userinfoUrl": provider + "/oauth/userinfo/",
        "revokeUrl": provider + "/oauth/revoke/",
        "clientId": client.client_id,
        "redirectUri": client.redirect_uri_list[0],
        "code": code,
        "verifier": verifier,
    }


def test_a_single_page_app_on_its_own_origin(
    chromium,
    browser,  # noqa: F811
    provider,
    static_origin,
):
    spa_origin = static_origin()
    intruder_origin = static_origin()
    assert urlsplit(spa_origin).port != urlsplit(provider).port
    client = factories.PublicClientFactory(
        name="SPA",
        redirect_uris=spa_origin + "/callback",
        allowed_scopes="openid read",
        grant_types="authorization_code",
    )

    # The app's own page: everything readable.
    verifier = new_verifier()
    code = code_for(browser, client, verifier)
    served: list[tuple[str, str]] = []

    def count(environ, **kwargs):
        served.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))

    request_started.connect(count, weak=False)
    context, page, console, problems = open_page(chromium, spa_origin)
    seen: list[tuple[str, str, int]] = []
    page.on("response", lambda r: seen.append((r.request.method, urlsplit(r.url).path, r.status)))
    result = page.evaluate("p => window.spa(p)", params(provider, client, code, verifier))
    context.close()

    assert result["token"]["status"] == 200, result
    assert result["token"]["body"]["token_type"] == "DPoP"
    assert result["token"]["body"]["access_token"].startswith("ofat_")
    # The first answer asked for a nonce and the page read it (DPoP-Nonce is exposed).
    token_calls = [s for m, path, s in seen if path == "/oauth/token/" and m == "POST"]
    assert token_calls == [400, 200], seen
    # The DPoP header made the browser ask first (preflights are not shown to pages, so
    # the provider's side counts them).
    assert ("OPTIONS", "/oauth/token/") in served, served
    assert served.index(("OPTIONS", "/oauth/token/")) < served.index(("POST", "/oauth/token/"))
    assert result["userinfo"]["status"] == 200, result
    assert result["userinfo"]["body"]["sub"]
    assert result["revocation"]["status"] == 200
    assert result["afterRevocation"] == 401
    assert AccessToken.objects.get().revoked_at is not None
    assert not problems, problems
    # Chromium logs every answer >= 400 it fetched: here the two nonce challenges and the
    # revoked token's 401. Nothing else: no CORS refusal, no CSP report.
    errors = [line for line in console if line.startswith("error")]
    assert sorted(errors) == sorted(
        f"error: Failed to load resource: the server responded with a status of {status}"
        for status in ("400 (Bad Request)", "401 (Unauthorized)", "401 (Unauthorized)")
    ), console

    # A page on another origin, with a code of the same client: it reads nothing, and the
    # provider refused the request, so the code is still unused.
    verifier = new_verifier()
    code = code_for(browser, client, verifier)
    context, page, console, problems = open_page(chromium, intruder_origin)
    served.clear()
    outcome = page.evaluate("p => window.intruder(p)", params(provider, client, code, verifier))
    context.close()
    request_started.disconnect(count)

    assert outcome["simple"]["read"] is False, outcome
    assert outcome["preflighted"]["read"] is False, outcome
    # The simple request reached the provider, which refused it (invalid_client: no token,
    # the code unused); the preflighted one stopped at its preflight. Chromium shows a
    # page no answer to a blocked request, so the provider's side is what is checked.
    assert served == [("POST", "/oauth/token/"), ("OPTIONS", "/oauth/token/")], served
    assert AccessToken.objects.count() == 1  # the app's, and no other
    assert AuthorizationCode.objects.filter(redeemed_at__isnull=True).count() == 1
    blocked = [line for line in console if line.startswith("error")]
    # Only Chromium's own account of the two blocked reads.
    assert any("blocked by CORS policy" in line for line in blocked), console
    assert all("blocked by CORS policy" in line or "net::ERR_FAILED" in line for line in blocked), (
        console
    )
    assert not problems, problems
