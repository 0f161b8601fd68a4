"""Schemes: a second way to present a token plugs in beside Bearer, and every protected
view accepts it and names it in its challenges."""

from __future__ import annotations

from typing import Any

import pytest

from oauthflow.resource import schemes
from oauthflow.store.validity import Refusal
from tests.conftest import bearer


class HeaderScheme(schemes.Scheme):
    """``X-Test-Token: <token>``; a token whose scope holds "bound" is refused by it."""

    name = "TestScheme"

    def credentials(self, request: Any) -> str | None:
        return request.headers.get("X-Test-Token")

    def check(self, request: Any, token: Any) -> Refusal | None:
        return Refusal.REVOKED if "bound" in token.scopes else None

    def challenge(self, *, error=None, description=None, scopes=()) -> str:
        return f'TestScheme error="{error}"' if error else "TestScheme"


@pytest.fixture
def second_scheme():
    schemes.register(HeaderScheme())
    yield
    schemes.unregister("TestScheme")


def test_a_registered_scheme_is_accepted_by_drf_and_plain_views(
    client, access_token, second_scheme
):
    for path in ("/api/read/", "/plain/read/"):
        response = client.get(path, HTTP_X_TEST_TOKEN=access_token.value)
        assert response.status_code == 200, (path, response.content)


def test_every_refusal_carries_one_challenge_per_scheme(client, db, second_scheme):
    response = client.get("/api/read/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", TestScheme'
    refused = client.get("/plain/read/", **bearer("ofat_unknown"))
    assert refused["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    assert refused["WWW-Authenticate"].endswith('TestScheme error="invalid_token"')


def test_a_token_in_two_schemes_at_once_is_invalid_request(client, access_token, second_scheme):
    response = client.get(
        "/api/read/", HTTP_X_TEST_TOKEN=access_token.value, **bearer(access_token.value)
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Send the access token in one place only")


def test_the_scheme_checks_what_it_binds(client, db, second_scheme):
    from tests import factories

    token = factories.AccessTokenFactory(scope="read bound")
    response = client.get("/api/read/", HTTP_X_TEST_TOKEN=token.value)
    assert response.status_code == 401
    assert client.get("/api/read/", **bearer(token.value)).status_code == 200


def test_bearer_alone_is_the_default(client, db):
    assert [s.name for s in schemes.accepted()] == ["Bearer"]
