"""One client assertion presented by eight requests at once buys one token, whichever
store remembers it (PostgreSQL for the database store; Redis for the cache)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

import pytest

from oauthflow.models import AccessToken
from oauthflow.private_key_jwt.models import UsedAssertion
from tests.concurrent_requests import THREADS, run_concurrently
from tests.oauth_helpers import TOKEN

from .helpers import ClientKey, form, key_client


@pytest.fixture(
    params=[pytest.param("database", marks=pytest.mark.postgres), pytest.param("redis")]
)
def store(request, transactional_db, settings):
    options = {**settings.OAUTHFLOW}
    options.pop("TOKEN_CACHE", None)
    if request.param == "database":
        request.getfixturevalue("postgres_only")
        options.pop("CLIENT_ASSERTION_REPLAY_CACHE", None)
    else:
        options["CLIENT_ASSERTION_REPLAY_CACHE"] = "tokens"
    settings.OAUTHFLOW = options
    return request.param


def test_one_assertion_at_once_from_eight_threads_buys_one_token(store):
    key = ClientKey()
    machine = key_client(key)
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "scope": "read",
            **form(machine.client_id, key.assertion(machine.client_id)),
        }
    )

    results = run_concurrently(
        lambda http: http.post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    )

    assert Counter(r.status_code for r in results) == {200: 1, 401: THREADS - 1}
    assert AccessToken.objects.filter(client=machine).count() == 1
    assert UsedAssertion.objects.count() == (1 if store == "database" else 0)
