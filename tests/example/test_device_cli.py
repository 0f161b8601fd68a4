"""example_project/device_cli.py, the demo's command-line client, signs a user in through
the device flow against a live example site, then calls its API.

The CLI runs as a separate process and speaks only HTTP; the test plays the user on a
phone: it signs in, enters the code the CLI printed, and allows (or denies).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests import factories

pytestmark = pytest.mark.live

CLI = Path(__file__).resolve().parents[2] / "example_project" / "device_cli.py"
PASSWORD = "correct horse battery staple"
GRANTS = "urn:ietf:params:oauth:grant-type:device_code refresh_token"


@pytest.fixture
def site(live_server, transactional_db, settings):
    settings.ROOT_URLCONF = "example.urls"
    # The device waits the interval before each poll: one second keeps the test short.
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_POLLING_INTERVAL": 1}
    return live_server.url


class Phone:
    """The user's browser on another device."""

    def __init__(self, site: str, username: str):
        self.site = site
        self.http = requests.Session()
        self._post(f"{site}/accounts/login/", {"username": username, "password": PASSWORD})

    def _post(self, url: str, data: dict) -> requests.Response:
        page = self.http.get(url)
        # The page's hidden fields (the CSRF token; the consent form's "form"), as a
        # browser would post them.
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        return self.http.post(url, data={**hidden, **data})

    def enter(self, user_code: str, decision: str) -> str:
        response = self._post(f"{self.site}/oauth/device/", {"user_code": user_code})
        assert response.url.endswith("/oauth/device/confirm/"), response.text
        done = self._post(response.url, {"decision": decision})
        assert done.url.endswith("/oauth/device/done/"), done.text
        return done.text


def _run_cli(site: str, client_id: str, scope: str = "read"):
    process = subprocess.Popen(  # noqa: S603 (our own script)
        [sys.executable, str(CLI), "--site", site, "--client-id", client_id, "--scope", scope],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    code_seen = threading.Event()
    code: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            found = re.fullmatch(r"\s+([B-Z]{4}-[B-Z]{4})\s*", line)
            if found:
                code.append(found.group(1))
                code_seen.set()
        code_seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert code_seen.wait(20), "".join(lines)
    assert code, "".join(lines)
    return process, reader, code[0], lines


def test_the_cli_signs_in_through_the_site_and_calls_the_api(site):
    factories.UserFactory(username="alice", first_name="Alice")
    cli = factories.PublicClientFactory(grant_types=GRANTS, redirect_uris="")
    process, reader, user_code, lines = _run_cli(site, cli.client_id)
    assert any(f"{site}/oauth/device/" in line for line in lines)

    page = Phone(site, "alice").enter(user_code.lower(), "allow")

    assert "go back to your device" in page
    assert process.wait(30) == 0, "".join(lines)
    reader.join(5)
    output = "".join(lines)
    assert "HTTP 200" in output
    assert '"username": "alice"' in output


def test_the_cli_says_so_when_the_user_denies(site):
    factories.UserFactory(username="alice")
    cli = factories.PublicClientFactory(grant_types=GRANTS, redirect_uris="")
    process, reader, user_code, lines = _run_cli(site, cli.client_id)

    Phone(site, "alice").enter(user_code, "deny")

    assert process.wait(30) == 1
    reader.join(5)
    assert "You denied the request." in "".join(lines)


def test_the_cli_explains_a_client_without_the_grant(site):
    web_app = factories.PublicClientFactory()  # authorization_code only

    result = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, str(CLI), "--site", site, "--client-id", web_app.client_id],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "unauthorized_client" in result.stdout
