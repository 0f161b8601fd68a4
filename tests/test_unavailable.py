"""While the database cannot be reached: 503 with Retry-After, JSON or an error page, never
a 500 or a traceback. (tests/test_database_outage.py stops a real PostgreSQL.)"""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import OperationalError

from tests.conftest import bearer
from tests.oauth_helpers import authorize_url, basic, new_verifier

DOWN = OperationalError("connection to server failed")


def assert_json_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()  # oauthflow's JSON, or DRF's {"detail": ...} on a DRF view
    assert body.get("error") == "temporarily_unavailable" or "temporarily" in body["detail"]


@pytest.fixture
def database_down():
    with mock.patch("oauthflow.store.lookups.RowLookup.get", side_effect=DOWN):
        yield


@pytest.mark.parametrize("path", ["/api/read/", "/plain/read/"])
def test_protected_views_answer_503(client, access_token, database_down, path):
    assert_json_503(client.get(path, **bearer(access_token.value)))


@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/revoke/", "/oauth/introspect/"])
def test_client_endpoints_answer_503_json(client, client_app, database_down, path):
    response = client.post(
        path,
        urlencode({"grant_type": "client_credentials", "token": "ofat_x"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    assert_json_503(response)
    assert response.json()["error"] == "temporarily_unavailable"


def test_the_authorize_page_answers_503_with_an_error_page(signed_in, client_app, settings):
    settings.DEBUG = True  # no traceback page even then
    url = authorize_url(client_app, verifier=new_verifier())
    with mock.patch("oauthflow.store.lookups.RowLookup.get", side_effect=DOWN):
        response = signed_in.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "temporarily_unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_the_authorized_apps_page_answers_503(signed_in):
    with mock.patch("oauthflow.views.authorized_apps.authorized_apps_of", side_effect=DOWN):
        response = signed_in.get("/oauth/authorized-apps/")
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_the_metadata_needs_no_database(client, database_down):
    assert client.get("/.well-known/oauth-authorization-server").status_code == 200
