"""Fixtures for whole flows against Django's live server with real client libraries."""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from html import unescape as html_unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests import factories
from tests.flows.node_script import NODE_DIR

PASSWORD = "correct horse battery staple"


class Browser:
    """The user's browser: a cookie-keeping HTTP session that signs in and consents."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def sign_in(self, username: str) -> None:
        url = self.base_url + "/accounts/login/"
        page = self.http.get(url)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            url,
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text

    def consent(self, authorization_url: str, decision: str = "allow") -> str:
        """Open the authorization URL, press Allow or Deny; return the redirect Location."""
        page = self.http.get(authorization_url, allow_redirects=False)
        if page.status_code == 302:
            return page.headers["Location"]
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            authorization_url,
            data={"decision": decision, "csrfmiddlewaretoken": csrf},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def enter_device_code(self, user_code: str, decision: str = "allow") -> str:
        """The device flow's pages (RFC 8628 §3.3): type the code a device shows at
        /oauth/device/, press Allow or Deny on the page that follows; return the text
        of the page the user ends on. Each form is posted as a browser would: its hidden
        fields (the CSRF token and any other), the field typed in, the button pressed."""
        url = self.base_url + "/oauth/device/"
        page = self.http.get(url, allow_redirects=False)
        assert page.status_code == 200, page.text
        entered = self.http.post(
            url,
            data={**hidden_fields(page.text), "user_code": user_code},
            allow_redirects=False,
        )
        assert entered.status_code == 302, entered.text
        confirm_url = urljoin(url, entered.headers["Location"])
        assert confirm_url == self.base_url + "/oauth/device/confirm/"
        page = self.http.get(confirm_url, allow_redirects=False)
        assert page.status_code == 200, page.text
        assert user_code in page.text  # the page shows the code, to compare with the device
        decided = self.http.post(
            confirm_url,
            data={**hidden_fields(page.text), "decision": decision},
            allow_redirects=False,
        )
        assert decided.status_code == 302, decided.text
        done_url = urljoin(confirm_url, decided.headers["Location"])
        assert done_url == self.base_url + "/oauth/device/done/"
        done = self.http.get(done_url, allow_redirects=False)
        assert done.status_code == 200, done.text
        return done.text


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form (one form per page here), as a browser posts them."""
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\btype="hidden"', tag):
            name = re.search(r'\bname="([^"]*)"', tag).group(1)
            value = re.search(r'\bvalue="([^"]*)"', tag)
            fields[name] = html_unescape(value.group(1)) if value else ""
    assert "csrfmiddlewaretoken" in fields, html
    return fields


@pytest.fixture
def browser(live_server, transactional_db):
    user = factories.UserFactory(username="alice")
    b = Browser(live_server.url)
    b.sign_in(user.username)
    b.user = user
    return b


def _installed() -> bool:
    """node_modules holds what package-lock.json pins (npm writes this copy of it)."""
    hidden = NODE_DIR / "node_modules" / ".package-lock.json"
    if not hidden.exists():
        return False
    wanted = json.loads((NODE_DIR / "package-lock.json").read_text())["packages"]
    have = json.loads(hidden.read_text())["packages"]
    return all(
        have.get(path, {}).get("version") == entry.get("version")
        for path, entry in wanted.items()
        if path
    )


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with the packages of tests/flows/node installed."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are needed for the openid-client tests (CI has them).")
    # One install at a time across processes (parallel runs of this checkout): the lock
    # is a file in the temporary directory, named after this folder. POSIX only (fcntl).
    tag = hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"oauthflow-npm-ci-{tag}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _installed():
                result = subprocess.run(  # noqa: S603 (a fixed command)
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=NODE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                if result.returncode != 0:
                    pytest.fail(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return node
