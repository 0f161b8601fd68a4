"""The bench's own virtualenvs and the services it needs (PostgreSQL, Redis).

Two virtualenvs under bench/ (git-ignored), made on first use and kept:

* ``.venv-oauthflow``: this checkout (editable, so the bench always measures the working
  tree), DRF, gunicorn, psycopg, redis, pyinstrument.
* ``.venv-dot``: the newest django-oauth-toolkit on the index, with exactly the Django and
  DRF versions the oauthflow venv resolved, gunicorn and psycopg.

``--refresh-venvs`` deletes and remakes both (to pick up a new DOT release, say).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OAUTHFLOW_VENV = BENCH / ".venv-oauthflow"
DOT_VENV = BENCH / ".venv-dot"
OAUTHFLOW_REQUIREMENTS = [
    "-e",
    f"{ROOT}[drf]",
    "gunicorn",
    "psycopg[binary]",
    "redis",
    "pyinstrument",
]
DOT_REQUIREMENTS = ["django-oauth-toolkit", "gunicorn", "psycopg[binary]"]


def ensure_venvs(refresh: bool = False) -> None:
    if refresh:
        shutil.rmtree(OAUTHFLOW_VENV, ignore_errors=True)
        shutil.rmtree(DOT_VENV, ignore_errors=True)
    _venv(OAUTHFLOW_VENV, OAUTHFLOW_REQUIREMENTS, extra_key=(ROOT / "setup.cfg").read_text())
    django, drf = (
        _version(OAUTHFLOW_VENV, "django"),
        _version(OAUTHFLOW_VENV, "djangorestframework"),
    )
    # The same Django and DRF as oauthflow's venv, so the two differ only by provider.
    pins = [f"django=={django}", f"djangorestframework=={drf}"]
    _venv(DOT_VENV, [*DOT_REQUIREMENTS, *pins])


def _venv(path: Path, requirements: list[str], extra_key: str = "") -> None:
    stamp = path / ".bench-installed"
    key = hashlib.sha256(("\n".join(requirements) + extra_key).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == key:
        return
    print(f"Making {path.relative_to(ROOT)} (once; --refresh-venvs remakes it) …", flush=True)
    if not (path / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade"]
    subprocess.run([*pip, "pip"], check=True)
    subprocess.run([*pip, *requirements], check=True)
    stamp.write_text(key)


def _version(venv: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    return out.stdout.strip()


def versions() -> dict[str, dict[str, str]]:
    names = {
        "oauthflow": (OAUTHFLOW_VENV, ["oauthflow", "django", "djangorestframework", "authlib"]),
        "dot": (DOT_VENV, ["django-oauth-toolkit", "django", "djangorestframework", "oauthlib"]),
    }
    return {site: {n: _version(venv, n) for n in dists} for site, (venv, dists) in names.items()}


def ensure_services() -> None:
    """Start PostgreSQL and Redis the way .ci/run does, if they are not up."""
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        clusters = sorted(p.name for p in Path("/etc/postgresql").iterdir())
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"],
            check=True,
        )
        for _ in range(30):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0:
                break
            time.sleep(1)
    ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True)
    if ping.returncode != 0:
        subprocess.run(
            [
                *("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"),
                *("--save", "", "--appendonly", "no"),
            ],
            check=True,
        )
