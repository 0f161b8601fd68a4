"""Every CORS test starts with a process that has read no client's origins."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_origins():
    from oauthflow import cors

    cors.forget()
    yield
    cors.forget()
