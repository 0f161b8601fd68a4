"""A real relying party signs its user in through oauthflow's OpenID Connect provider.

The relying party is a Django site of its own (tests/browser/rp_site/) using
mozilla-django-oidc, run by ``runserver`` in a separate process on a port of its own with
its own SQLite file: Django's settings are global, so it cannot share the provider's
process. It knows only what the provider publishes (its discovery document's endpoints)
and the client's credentials. It sends state, nonce and a PKCE S256 challenge, checks the
ID token's signature against the JWKS (RS256), and asks UserInfo who signed in.

Headless Chromium walks it as a person would: the relying party's sign-in link, the
provider's sign-in page, its consent page (Allow), and back at the relying party, which
shows the user it learned from the provider.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from oauthflow import keys
from oauthflow.models import AccessToken, Authentication
from tests import factories
from tests import settings as TEST_SETTINGS

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
RP_SETTINGS = "tests.browser.rp_site.settings"
PASSWORD = "correct horse battery staple"
SCOPE = "openid email profile"
#: How long the relying party may take to start (checks, then the first request served).
START_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def provider(example_site, live_server) -> dict:
    """The provider's discovery document, as a relying party reads it."""
    # The example site's settings, with the tests' key encryption key: DEBUG is off, so
    # the ID token's signing key needs one.
    example_site.OAUTHFLOW = {
        **example_site.OAUTHFLOW,
        "SIGNING_KEY_ENCRYPTION_KEYS": TEST_SETTINGS.OAUTHFLOW["SIGNING_KEY_ENCRYPTION_KEYS"],
    }
    # Keys earlier tests made were rolled back with their data, unseen by this process's
    # copy of the key table.
    keys.forget()
    response = requests.get(live_server.url + "/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def rp_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def rp_user(provider):
    return factories.UserFactory(
        username="ada", email="ada@example.com", first_name="Ada", password=PASSWORD
    )


@pytest.fixture
def rp_client(provider, rp_url):
    """The relying party, registered at the provider as a confidential client."""
    return factories.ClientFactory(
        name="Relying Party",
        redirect_uris=rp_url + "/oidc/callback/",
        grant_types="authorization_code refresh_token",
        allowed_scopes=SCOPE,
    )


@pytest.fixture
def relying_party(provider, rp_client, rp_url, tmp_path) -> Iterator[str]:
    """The relying party's site, migrated and serving at ``rp_url``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": RP_SETTINGS,
        "PYTHONPATH": str(ROOT),
        "RP_DATABASE": str(tmp_path / "relying-party.sqlite3"),
        "RP_OIDC_AUTHORIZATION_ENDPOINT": provider["authorization_endpoint"],
        "RP_OIDC_TOKEN_ENDPOINT": provider["token_endpoint"],
        "RP_OIDC_USERINFO_ENDPOINT": provider["userinfo_endpoint"],
        "RP_OIDC_JWKS_URI": provider["jwks_uri"],
        "RP_OIDC_CLIENT_ID": rp_client.client_id,
        "RP_OIDC_CLIENT_SECRET": rp_client.secret,
    }
    django_admin = [sys.executable, "-m", "django"]
    migrate = subprocess.run(  # noqa: S603
        [*django_admin, "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    log_path = tmp_path / "relying-party.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            [*django_admin, "runserver", "--noreload", urlsplit(rp_url).netloc],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.poll() is None, "the relying party exited:\n" + log_path.read_text()
            try:
                if requests.get(rp_url + "/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "no relying party:\n" + log_path.read_text()
            time.sleep(0.1)
        yield rp_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        # Shown by pytest when the test fails: what the relying party said.
        print("relying party log:\n" + log_path.read_text())


@pytest.fixture
def rp_page(chromium, watch) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
    context.on("request", watch.on_request)
    context.on("requestfailed", watch.on_request_failed)
    context.on("response", watch.on_response)
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_relying_party_signs_in_through_the_provider(
    rp_page: Page, watch, provider, relying_party, rp_user, rp_client
):
    page = rp_page
    # The relying party was configured with the published endpoints, on the provider.
    issuer = provider["issuer"]
    assert {"code"} <= set(provider["response_types_supported"])
    assert "RS256" in provider["id_token_signing_alg_values_supported"]
    assert "S256" in provider["code_challenge_methods_supported"]

    page.goto(relying_party + "/")
    expect(page.locator("#signed-out")).to_be_visible()
    page.get_by_role("link", name="Sign in with the provider").click()

    # The provider's sign-in page.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(issuer + "/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The consent page names the relying party and what it asks for.
    expect(page).to_have_title("Allow Relying Party to use your account?")
    scopes = page.locator(".oauthflow-scopes li")
    expect(scopes).to_have_count(3)
    expect(scopes.filter(has_text="Sign you in")).to_have_count(1)
    expect(scopes.filter(has_text="email address")).to_have_count(1)
    expect(scopes.filter(has_text="name and username")).to_have_count(1)
    page.get_by_role("button", name="Allow").click()

    # Back at the relying party, signed in as the provider's user.
    expect(page.locator("#signed-in")).to_be_visible()
    assert page.url == relying_party + "/"
    expect(page.locator("#username")).to_have_text("ada")
    expect(page.locator("#email")).to_have_text("ada@example.com")

    # The ID token the relying party verified: from this issuer, for this client, about
    # the subject the provider recorded for the sign-in.
    record = Authentication.objects.get(client=rp_client, user=rp_user)
    expect(page.locator("#iss")).to_have_text(issuer)
    expect(page.locator("#aud")).to_have_text(rp_client.client_id)
    expect(page.locator("#sub")).to_have_text(record.sub)

    # The authorization request: code flow with state, nonce and PKCE S256.
    authorize = [
        url for url in watch.requests if url.startswith(provider["authorization_endpoint"] + "?")
    ]
    assert authorize, watch.requests
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize[0]).query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == rp_client.client_id
    assert params["redirect_uri"] == relying_party + "/oidc/callback/"
    assert params["scope"] == SCOPE
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] and params["state"] and params["nonce"]
    assert record.nonce == params["nonce"]
    assert set(AccessToken.objects.get(client=rp_client, user=rp_user).scope.split()) == set(
        SCOPE.split()
    )
    # The browser came back through the callback, and the relying party did not fail it.
    assert ("/oidc/callback/", 302) in watch.responses
    assert not page.locator("#failed").count()
