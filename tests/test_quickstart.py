"""The README's quick start, followed in a project fresh from ``startproject``: its
snippets as written, then a whole authorization through the sign-in page it sets up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

pytestmark = pytest.mark.live

FLOW = r"""
import base64, hashlib, json, secrets
from urllib.parse import parse_qs, urlencode, urlsplit
from django.contrib.auth import get_user_model
from django.test import Client

made = json.loads(open("client.json").read())
get_user_model().objects.create_user("alice", password="correct horse battery staple")
http = Client(HTTP_HOST="127.0.0.1")
verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
url = "/oauth/authorize/?" + urlencode({
    "response_type": "code", "client_id": made["client_id"], "scope": "read", "state": "s",
    "redirect_uri": "https://printer.example.com/callback",
    "code_challenge": challenge.decode(), "code_challenge_method": "S256"})
steps = {}
to_login = http.get(url)
steps["authorize"] = (to_login.status_code, to_login["Location"].split("?")[0])
steps["login page"] = http.get(to_login["Location"]).status_code
signed_in = http.post("/oauth/login/", {"username": "alice",
    "password": "correct horse battery staple", "next": url})
steps["sign in"] = signed_in.status_code
steps["consent page"] = http.get(url).status_code
allowed = http.post(url, {"decision": "allow"})
code = parse_qs(urlsplit(allowed["Location"]).query)["code"][0]
basic = base64.b64encode(f"{made['client_id']}:{made['client_secret']}".encode()).decode()
token = http.post("/oauth/token/", urlencode({"grant_type": "authorization_code", "code": code,
    "redirect_uri": "https://printer.example.com/callback", "code_verifier": verifier}),
    content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION="Basic " + basic)
steps["token"] = (token.status_code, sorted(token.json()))
print("QUICKSTART " + json.dumps(steps))
"""


def _snippet() -> str:
    """The README's settings-and-urls block."""
    blocks = re.findall(r"```python\n(# settings.py\n.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "the README's quick start lost its settings block"
    return blocks[0]


def _run(cwd: Path, *args: str) -> str:
    # The new project's own settings, not the test suite's.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(  # noqa: S603 (our interpreter)
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_the_quick_start_works_in_a_fresh_project(tmp_path):
    snippet = _snippet()
    settings_part, urls_part = snippet.split("# urls.py")
    # What the README says, applied as a reader would: the "..." are the project's own.
    assert 'INSTALLED_APPS = [..., "oauthflow"]' in settings_part
    assert 'urlpatterns = [..., path("", include("oauthflow.urls"))]' in urls_part
    _run(tmp_path, "-m", "django", "startproject", "quick", str(tmp_path))
    settings = tmp_path / "quick" / "settings.py"
    own_lines = [
        line
        for line in settings_part.splitlines()
        if line and not line.startswith(("#", "INSTALLED_APPS"))
    ]
    settings.write_text(
        settings.read_text()
        + '\nINSTALLED_APPS = [*INSTALLED_APPS, "oauthflow"]\n'
        + "\n".join(own_lines)
        + "\n"
    )
    urls = tmp_path / "quick" / "urls.py"
    text = urls.read_text().replace(
        "from django.urls import path", "from django.urls import include, path"
    )
    urls.write_text(text + '\nurlpatterns += [path("", include("oauthflow.urls"))]\n')

    checked = _run(tmp_path, "manage.py", "check")
    assert "no issues" in checked and "oauthflow." not in checked
    _run(tmp_path, "manage.py", "migrate", "--no-input")
    made = _run(
        tmp_path,
        "manage.py",
        "oauthflow_client",
        "create",
        "--name",
        "Photo Printer",
        "--redirect-uri",
        "https://printer.example.com/callback",
        "--scope",
        "read",
        "--json",
    )
    (tmp_path / "client.json").write_text(made[made.index("{") : made.rindex("}") + 1])
    out = _run(tmp_path, "manage.py", "shell", "-c", FLOW)
    steps = json.loads(out.split("QUICKSTART ", 1)[1].splitlines()[0])
    assert steps == {
        "authorize": [302, "/oauth/login/"],
        "login page": 200,
        "sign in": 302,
        "consent page": 200,
        "token": [200, ["access_token", "expires_in", "refresh_token", "scope", "token_type"]],
    }
