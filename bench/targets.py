"""The two bench sites: their databases, their task commands, their gunicorn servers."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SITES_DIR = BENCH / "sites"
WORKERS = 2


def psql(sql: str) -> None:
    """Run SQL on the server's maintenance database (PGHOST/PGPORT/PGUSER are honoured)."""
    env = {"PGHOST": "127.0.0.1", "PGUSER": "postgres", **os.environ}
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    subprocess.run(["psql", "-q", "-d", "postgres", "-c", sql], env=env, check=True)


@dataclass
class Site:
    """One bench Django project in its own virtualenv, with its own database."""

    name: str  # "oauthflow" or "dot"
    module: str  # the project package under bench/sites/
    venv: Path
    database: str
    state: Path  # client ids and secrets made by ``setup``
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(SITES_DIR),
            "DJANGO_SETTINGS_MODULE": f"{self.module}.settings",
            "BENCH_DB": self.database,
            "BENCH_STATE": str(self.state),
            **self.env,
            **extra,
        }

    def recreate_database(self) -> dict:
        psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{self.database}"')
        return self.task("setup")

    def task(self, command: str, *args: str, **extra_env: str) -> dict:
        """Run ``python -m <module>.tasks command args`` in the site's venv; its result."""
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-m", f"{self.module}.tasks", command, *args],
            cwd=SITES_DIR,
            env=self.environ(**extra_env),
            capture_output=True,
            text=True,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line.split(" ", 1)[1])
        raise RuntimeError(f"{self.name} task {command} failed:\n{done.stderr[-3000:]}")


@dataclass
class Server:
    """gunicorn with 2 sync workers serving one site on a loopback port."""

    name: str
    site: Site
    port: int
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, log_dir: Path) -> None:
        log = open(log_dir / f"gunicorn-{self.name}.log", "w")
        self.process = subprocess.Popen(
            [
                str(self.site.venv / "bin" / "gunicorn"),
                f"{self.site.module}.wsgi:application",
                f"--workers={WORKERS}",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{self.port}",
                "--backlog=2048",
                "--log-level=warning",
            ],
            cwd=SITES_DIR,
            env=self.site.environ(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited; see {log.name}")
            if self.status("/api/open/") == 200:
                self.drain()  # every worker has served a request before anything is measured
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def status(self, path: str, method: str = "GET") -> int:
        """The HTTP status of one bodiless request, or 0 if the server did not answer."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path)
            return connection.getresponse().status
        except OSError:
            return 0
        finally:
            connection.close()

    def drain(self) -> None:
        """Wait until both workers are idle: requests a load run left queued (slow hashed
        secrets, for one) finish before the next run starts."""
        probes = [threading.Thread(target=self.status, args=("/api/open/",)) for _ in range(4)]
        for probe in probes:
            probe.start()
        for probe in probes:
            probe.join()
