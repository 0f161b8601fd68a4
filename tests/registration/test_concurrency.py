"""Concurrent registrations with one initial access token (PostgreSQL): its use count
is spent by a conditional UPDATE, so no more clients register than it allows."""

from __future__ import annotations

import pytest

from oauthflow.models import Client
from oauthflow.registration.guard import new_initial_access_token
from oauthflow.registration.models import ClientRegistration, InitialAccessToken
from tests.concurrent_requests import THREADS, run_concurrently
from tests.registration.conftest import NATIVE_APP, post_json

pytestmark = pytest.mark.postgres

USES = 3


def test_concurrent_registrations_cannot_exceed_the_use_count(
    transactional_db, postgres_only, with_tokens
):
    row, value = new_initial_access_token(uses=USES)

    results = run_concurrently(lambda http: post_json(http, NATIVE_APP, value))

    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * USES + [401] * (THREADS - USES), statuses
    assert Client.objects.count() == USES
    assert ClientRegistration.objects.filter(initial_access_token=row).count() == USES
    assert InitialAccessToken.objects.get(pk=row.pk).uses_left == 0
