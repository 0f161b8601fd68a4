"""PostgreSQL stops and starts again under a running site: every endpoint answers 503 with
Retry-After (JSON, or an error page for a person) while it is down, never a traceback,
and service resumes without a restart. The cluster is the test's own, on a spare port, so
the machine's PostgreSQL is untouched. Needs PostgreSQL's server binaries and root (the
cluster runs as the postgres user)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not BIN, reason="needs PostgreSQL's server binaries"),
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str) -> None:
    subprocess.run(  # noqa: S603 (fixed programs)
        [shutil.which("runuser") or "runuser", "-u", "postgres", "--", *args],
        check=True,
        capture_output=True,
    )


class Cluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="oauthflow-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = _free_port()
        _as_postgres(f"{BIN[-1]}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "log")
        _as_postgres(
            f"{BIN[-1]}/pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        _as_postgres(f"{BIN[-1]}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _django(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our interpreter)
        [
            sys.executable,
            "-m",
            "django",
            *args,
            "--settings=tests.fault_settings",
            "--pythonpath=.",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from tests import factories

user = factories.UserFactory(username="alice")
app = factories.ClientFactory(grant_types="authorization_code refresh_token client_credentials")
token = factories.AccessTokenFactory(user=user, client=app, scope="read")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"client_id": app.client_id, "secret": app.secret, "token": token.value,
                  "session": session.session_key}))
"""


@pytest.fixture(scope="module")
def site():
    cluster = Cluster()
    server = None
    try:
        cluster.start()
        _as_postgres(
            f"{BIN[-1]}/createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "oauthflow_faults"
        )
        env = {**os.environ, "OAUTHFLOW_FAULT_PG_PORT": str(cluster.port)}
        _django(env, "migrate", "--no-input")
        made = json.loads(_django(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 (our interpreter)
            [
                sys.executable,
                "-m",
                "django",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
                "--settings=tests.fault_settings",
                "--pythonpath=.",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/.well-known/oauth-authorization-server", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield {"base": base, "cluster": cluster, **made}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass
        cluster.remove()


def _calls(site) -> dict[str, requests.Response]:
    base, auth = site["base"], (site["client_id"], site["secret"])
    bearer = {"Authorization": f"Bearer {site['token']}"}
    cookies = {"sessionid": site["session"]}
    authorize = (
        f"{base}/oauth/authorize/?response_type=code&client_id={site['client_id']}"
        "&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcallback&scope=read&state=s"
        "&code_challenge=" + "a" * 43 + "&code_challenge_method=S256"
    )
    form = {"grant_type": "client_credentials", "scope": "read", "token": site["token"]}
    return {
        "token": requests.post(f"{base}/oauth/token/", data=form, auth=auth, timeout=10),
        "revoke": requests.post(
            f"{base}/oauth/revoke/", data={"token": "ofat_unknown"}, auth=auth, timeout=10
        ),
        "introspect": requests.post(f"{base}/oauth/introspect/", data=form, auth=auth, timeout=10),
        "drf": requests.get(f"{base}/api/read/", headers=bearer, timeout=10),
        "plain": requests.get(f"{base}/plain/read/", headers=bearer, timeout=10),
        "authorize": requests.get(authorize, cookies=cookies, allow_redirects=False, timeout=10),
        "apps": requests.get(f"{base}/oauth/authorized-apps/", cookies=cookies, timeout=10),
    }


def test_every_endpoint_answers_503_while_postgresql_is_down_and_recovers(site):
    before = _calls(site)
    assert {name: r.status_code for name, r in before.items()} == {
        "token": 200,
        "revoke": 200,
        "introspect": 401,
        "drf": 200,
        "plain": 200,
        "authorize": 200,
        "apps": 200,
    }
    site["cluster"].stop()
    try:
        down = _calls(site)
    finally:
        site["cluster"].start()
    for name, response in down.items():
        assert response.status_code == 503, (name, response.status_code, response.text[:300])
        assert response.headers["Retry-After"] == "5", name
        assert "Traceback" not in response.text and "OperationalError" not in response.text
    for name in ("token", "revoke", "introspect", "plain"):
        assert down[name].json()["error"] == "temporarily_unavailable", name
    assert "temporarily" in down["drf"].json()["detail"]
    assert down["authorize"].headers["Content-Type"].startswith("text/html")
    # Back, without restarting the site: the dead connections are replaced.
    after = _calls(site)
    assert {name: r.status_code for name, r in after.items()} == {
        name: r.status_code for name, r in before.items()
    }
