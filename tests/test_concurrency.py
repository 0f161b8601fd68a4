"""Concurrent requests: exactly one success for one code or one refresh token, and never
a 5xx, on PostgreSQL (real concurrent transactions) and on SQLite (whose writers queue,
and fail at once if a transaction read before it wrote)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client as HttpClient

from oauthflow.models import AccessToken, RefreshToken
from tests import factories
from tests.concurrent_requests import THREADS, run_concurrently
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request


@pytest.fixture
def setup(transactional_db, postgres_only, client):
    user = factories.UserFactory(username="alice")
    client_app = factories.ClientFactory()
    client.force_login(user)
    return client, client_app


@pytest.mark.postgres
def test_concurrent_code_redemptions_give_one_success(setup):
    client, client_app = setup
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier)

    results = run_concurrently(lambda http: exchange(http, client_app, code, verifier))

    statuses = Counter(r.status_code for r in results)
    assert statuses == {200: 1, 400: THREADS - 1}, results
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    assert AccessToken.objects.count() == 1
    assert RefreshToken.objects.count() == 1
    # Racing a code is reuse (RFC 9700 §4.2.4): the one pair issued is revoked as well.
    assert not AccessToken.objects.active().exists()


@pytest.mark.postgres
def test_concurrent_refreshes_give_one_new_pair(setup):
    client, client_app = setup
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier)
    first = exchange(client, client_app, code, verifier).json()

    results = run_concurrently(
        lambda http: token_request(
            http,
            client_app,
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        )
    )

    statuses = Counter(r.status_code for r in results)
    assert statuses == {200: 1, 400: THREADS - 1}, results
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    assert AccessToken.objects.count() == 2
    assert RefreshToken.objects.count() == 2
    # A concurrent second use of a refresh token is reuse: the whole family is revoked,
    # including the winner's new pair, and the next refresh fails.
    assert not RefreshToken.objects.active().exists()
    assert not AccessToken.objects.active().exists()


@pytest.mark.postgres
def test_concurrent_retries_within_the_grace_window_give_one_pair(setup, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REFRESH_TOKEN_REUSE_GRACE": 30}
    client, client_app = setup
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier)
    first = exchange(client, client_app, code, verifier).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert token_request(client, client_app, data).status_code == 200  # its answer is lost

    results = run_concurrently(lambda http: token_request(http, client_app, data))

    statuses = Counter(r.status_code for r in results)
    assert statuses[200] <= 1 and set(statuses) <= {200, 400}, results
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    # Never two working pairs. A retry that arrives after the winner superseded the lost
    # pair is a third use, so it may revoke the family, the winner's pair included, as
    # for concurrent refreshes.
    live = RefreshToken.objects.active().filter(rotated_at__isnull=True)
    assert live.count() <= statuses[200]


@pytest.fixture
def signed_in_users(transactional_db):
    user = factories.UserFactory(username="alice")
    return user


@pytest.mark.parametrize("skip_consent", [False, True])
def test_concurrent_allow_submissions_all_succeed(signed_in_users, skip_consent):
    """Eight "Allow" posts (or eight skip-consent requests) at once: eight codes, one
    consent, no "database is locked"."""
    from oauthflow.models import AuthorizationCode, Consent
    from tests.oauth_helpers import authorize_url

    user = signed_in_users
    client_app = factories.ClientFactory(skip_consent=skip_consent)

    def allow(http):
        http.force_login(user)
        url = authorize_url(client_app, verifier=new_verifier())
        return http.post(url, {"decision": "allow"}) if not skip_consent else http.get(url)

    results = run_concurrently(allow)
    assert [r.status_code for r in results] == [302] * THREADS, results
    assert AuthorizationCode.objects.count() == THREADS, results
    assert Consent.objects.count() == (0 if skip_consent else 1)


@pytest.mark.postgres
def test_a_retry_sent_while_the_original_is_still_running_gets_the_pair(setup, settings):
    """The case the grace window is for: the client timed out and retried while the
    server was still answering the first request. The retry reads the token unused, then
    finds it used by the time it tries: it must still be served as a retry, not as reuse."""
    import time
    from unittest import mock

    from oauthflow.store import issue

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REFRESH_TOKEN_REUSE_GRACE": 30}
    client, client_app = setup
    verifier = new_verifier()
    code = get_code(client, client_app, verifier=verifier)
    first = exchange(client, client_app, code, verifier).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    real_issue = issue.issue_tokens
    slow = threading.Event()

    def slow_issue(**kwargs):
        if not slow.is_set():
            slow.set()
            time.sleep(0.5)  # the first request holds the rotated row, uncommitted
        return real_issue(**kwargs)

    results = {}

    def original():
        results["original"] = token_request(HttpClient(), client_app, data).status_code
        connection.close()

    with mock.patch("oauthflow.server.authorization_server.issue_tokens", side_effect=slow_issue):
        thread = threading.Thread(target=original)
        thread.start()
        slow.wait(5)
        results["retry"] = token_request(HttpClient(), client_app, data).status_code
        thread.join()
    assert results == {"original": 200, "retry": 200}
    live = RefreshToken.objects.active().filter(rotated_at__isnull=True)
    assert live.count() == 1
