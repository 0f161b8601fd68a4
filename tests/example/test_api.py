"""The example site's API (example_project/example/api.py)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import bearer


@pytest.fixture
def example_urls(settings):
    settings.ROOT_URLCONF = "example.urls"


def test_me_shows_the_user_of_the_token(client, example_urls, access_token):
    response = client.get("/api/me/", **bearer(access_token.value))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_me_refuses_a_client_credentials_token_plainly(client, example_urls, db):
    """No user behind the token: a 403 that says why, never a 500 with a traceback."""
    machine = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    token = factories.AccessTokenFactory(client=machine, user=None, scope="read")
    response = client.get("/api/me/", **bearer(token.value))
    assert response.status_code == 403
    assert "not one a client got for itself" in response.json()["detail"]
