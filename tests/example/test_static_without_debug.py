"""The example site with DEBUG off (DJANGO_DEBUG=0) still serves its stylesheets: the
consent and sign-in pages keep their look (WhiteNoise; runserver alone would not)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        __import__("importlib").util.find_spec("whitenoise") is None,
        reason="the example's requirements are not installed (make install)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def example_without_debug(tmp_path: Path) -> Iterator[str]:
    """The example site under runserver with DEBUG off, as a deployment runs it; its URL."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    server = subprocess.Popen(  # noqa: S603 (our interpreter)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the example site did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_pages_keep_their_stylesheet_with_debug_off(tmp_path):
    with example_without_debug(tmp_path) as base:
        page = requests.get(f"{base}/accounts/login/", timeout=5)
        assert page.status_code == 200
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        assert stylesheets
        for href in stylesheets:
            css = requests.get(base + href, timeout=5)
            assert css.status_code == 200, href
            assert css.headers["Content-Type"].startswith("text/css")
