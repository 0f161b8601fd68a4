"""After whole flows, no table and no log line holds a token, code or secret in clear."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from oauthflow import views
from oauthflow.server import get_server
from tests import factories
from tests.device.helpers import GRANT_TYPE as DEVICE_GRANT
from tests.device.helpers import approve, codes, poll
from tests.oauth_helpers import basic, exchange, get_code, new_verifier, query_of, token_request


def run_every_flow(http, user) -> list[str]:
    """Issue one of everything; return every clear credential that crossed the wire."""
    http.force_login(user)
    client_app = factories.ClientFactory(
        grant_types="authorization_code refresh_token client_credentials"
    )
    secrets_seen = [client_app.secret]
    verifier = new_verifier()
    url_code = get_code(http, client_app, verifier=verifier)
    secrets_seen.append(url_code)
    body = exchange(http, client_app, url_code, verifier).json()
    secrets_seen += [body["access_token"], body["refresh_token"]]
    refreshed = token_request(
        http, client_app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    ).json()
    secrets_seen += [refreshed["access_token"], refreshed["refresh_token"]]
    # Failures too: reuse of a code and of a refresh token, and a wrong secret.
    exchange(http, client_app, url_code, verifier)
    token_request(
        http, client_app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    cc = token_request(http, client_app, {"grant_type": "client_credentials", "scope": "read"})
    secrets_seen.append(cc.json()["access_token"])
    public = factories.PublicClientFactory()
    verifier = new_verifier()
    public_code = get_code(http, public, verifier=verifier)
    secrets_seen += [
        public_code,
        exchange(http, public, public_code, verifier).json()["access_token"],
    ]
    # The device flow (oauthflow.device): the device code, then the tokens it buys.
    tv = factories.PublicClientFactory(grant_types=f"{DEVICE_GRANT} refresh_token")
    device = codes(http, tv)
    approve(http, device["user_code"])
    tokens = poll(http, tv, device["device_code"]).json()
    secrets_seen += [device["device_code"], tokens["access_token"], tokens["refresh_token"]]
    return secrets_seen


def dump_database() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_table_holds_a_credential_in_clear(client, user):
    seen = run_every_flow(client, user)
    assert len(seen) == 12
    dump = dump_database()
    for value in seen:
        random_part = value.split("_", 1)[1]
        assert random_part not in dump
        # Not even a long fragment of it.
        assert random_part[:16] not in dump


def test_no_log_line_holds_a_credential(client, user, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("authlib", "oauthflow", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    seen = run_every_flow(client, user)
    assert caplog.records, "the flows should have logged something at DEBUG"
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for value in seen:
        assert value.split("_", 1)[1][:16] not in text


@pytest.mark.parametrize("field", ["code", "state"])
def test_redirect_carries_values_only_in_the_query(client, user, client_app, field):
    client.force_login(user)
    response = client.post(
        f"/oauth/authorize/?response_type=code&client_id={client_app.client_id}"
        f"&scope=read&state=abc&code_challenge={'a' * 43}&code_challenge_method=S256",
        {"decision": "allow"},
    )
    assert field in query_of(response["Location"])
    assert "#" not in response["Location"]


def test_error_reports_hide_the_token_endpoint_body(client_app, monkeypatch):
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": "ofrt_supersecretrefreshvalue",
            "client_id": client_app.client_id,
            "client_secret": client_app.secret,
        }
    )
    request = RequestFactory().post(
        "/oauth/token/", body, content_type="application/x-www-form-urlencoded"
    )
    monkeypatch.setattr(get_server(), "create_token_response", lambda r: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        views.token(request)
    report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "ofrt_supersecretrefreshvalue" not in report
    assert client_app.secret not in report


def test_form_body_token_is_hidden_in_error_reports(client_app, settings, db):
    from oauthflow.decorators import require_oauth

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_FORM_BODY_TOKEN": True}
    token = factories.AccessTokenFactory(client=client_app)

    @require_oauth(scopes=["read"])
    def view(request):
        raise ZeroDivisionError

    request = RequestFactory().post(
        "/x/",
        urlencode({"access_token": token.value}),
        content_type="application/x-www-form-urlencoded",
    )
    with pytest.raises(ZeroDivisionError):
        view(request)
    report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert token.value not in report


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_a_secret_sent_as_the_client_id_reaches_no_log(client, db, caplog, settings, auth):
    """A client that swaps its id and secret must not get its secret logged, by Authlib's
    debug lines or by Django's SQL log (on with DEBUG)."""
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)
    for name in ("authlib", "oauthflow", "django", "django.db.backends"):
        caplog.set_level(logging.DEBUG, logger=name)
    app = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    data = {"grant_type": "client_credentials", "scope": "read"}
    headers = {}
    if auth == "basic":
        headers["HTTP_AUTHORIZATION"] = basic(app.secret, app.client_id)
    else:
        data.update(client_id=app.secret, client_secret=app.client_id)
    response = client.post(
        "/oauth/token/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    assert response.json()["error"] == "invalid_client"
    assert caplog.records, "something was logged at DEBUG"
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert app.secret.split("_", 1)[1][:16] not in text
