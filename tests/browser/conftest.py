"""Headless Chromium, driven by Playwright, against the example site on a live server.

Debian's chromium is used (Playwright cannot download its own browser here). The site
runs as in ``make demo`` (its URLconf, templates, CSP middleware and demo client), with
the demo client pointed at the live server. Every page a test opens is watched: a console
error (a CSP violation is one), an uncaught page error, a failed request, or a request
to any host but this machine fails the test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from example import settings as EXAMPLE_SETTINGS

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "example_project"
#: Where `make screenshots` wants the pictures; unset, no picture is taken.
SCREENSHOTS_DIR = os.environ.get("OAUTHFLOW_SCREENSHOTS")

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"


@pytest.fixture(scope="session")
def chromium(django_db_setup, live_server):
    """One browser for the session; each test gets a fresh context (no shared cookies).

    Set up after the test database and live server and torn down before them: while it
    lives, Playwright's sync API keeps an event loop running in this thread, and Django
    refuses ORM calls from a thread with a running loop unless told the thread is safe,
    which it is (the tests and the live server never run ORM code concurrently here).
    """
    missing = ""
    if not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    else:
        try:
            from playwright import sync_api
        except ImportError:
            missing = "Python playwright is not installed (pip install -e '.[test]')"
    if missing:
        # .ci/run installs both, so in CI a missing browser is a broken set-up, not a skip.
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(autouse=True)
def example_site(settings, live_server, tmp_path):
    """Serve the example site: its URLs, templates, CSP and demo client, on the live server.

    Values come from the example's own settings module (read as a plain module, not
    loaded as Django's settings), so the tests walk the site `make demo` serves.
    """
    settings.ROOT_URLCONF = "example.urls"
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [EXAMPLE_DIR / "templates", *settings.TEMPLATES[0]["DIRS"]],
        }
    ]
    settings.CONTENT_SECURITY_POLICY = EXAMPLE_SETTINGS.CONTENT_SECURITY_POLICY
    settings.OAUTHFLOW = EXAMPLE_SETTINGS.OAUTHFLOW
    settings.DEMO_CLIENT = {
        "PROVIDER_URL": live_server.url,
        "REDIRECT_URI": live_server.url + "/demo/callback",
        "SIGNED_OUT_URI": live_server.url + "/demo/signed-out",
        "CREDENTIALS_FILE": tmp_path / "demo-client.json",
        "SCOPE": EXAMPLE_SETTINGS.DEMO_CLIENT["SCOPE"],
    }
    return settings


@pytest.fixture
def demo_user(example_site):
    user = factories.UserFactory(username=DEMO_USERNAME)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@pytest.fixture
def demo_client(example_site):
    """The demo client, registered as `demo_setup` does, credentials in the same JSON file."""
    client = factories.ClientFactory(
        name="Demo Client",
        redirect_uris=example_site.DEMO_CLIENT["REDIRECT_URI"],
        grant_types="authorization_code refresh_token",
        allowed_scopes="openid profile email read write",
        default_scopes="read",
        post_logout_redirect_uris=example_site.DEMO_CLIENT["SIGNED_OUT_URI"],
    )
    Path(example_site.DEMO_CLIENT["CREDENTIALS_FILE"]).write_text(
        json.dumps({"client_id": client.client_id, "client_secret": client.secret})
    )
    return client


@dataclass
class Watch:
    """Everything a page asked for and said, to be judged when the test ends."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)

    def on_request(self, request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
            self.problems.append(f"request outside this machine: {request.url}")

    def on_console(self, message) -> None:
        self.console.append(f"{message.type}: {message.text}")
        if message.type in ("error", "assert"):
            self.problems.append(f"console {message.type}: {message.text} ({message.location})")

    def on_page_error(self, error) -> None:
        self.problems.append(f"page error: {error}")

    def on_request_failed(self, request) -> None:
        # ERR_ABORTED is the browser dropping a load it no longer needs (the page moved on
        # before the icon arrived), not the site failing.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def on_response(self, response) -> None:
        self.responses.append((urlsplit(response.url).path, response.status))


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(chromium, watch, live_server, demo_user, demo_client) -> Iterator:
    context = chromium.new_context(
        viewport={"width": 1100, "height": 900}, locale="en-GB", base_url=live_server.url
    )
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


def screenshot(page, name: str, width: int, height: int = 600) -> None:
    """Save docs/images/<name>.png when `make screenshots` asked for pictures.

    The picture is the whole page at ``width``; ``height`` is the least it shows.
    """
    if not SCREENSHOTS_DIR:
        return
    size = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    Path(SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS_DIR) / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
