"""The device flow under concurrent requests, on PostgreSQL (real concurrent transactions).

Polls of one device code, decisions on one request and wrong user codes from one user
arrive at once, eight at a time behind a barrier, each with its own test client and
database connection (as in tests/test_concurrency.py). And polls from two OS processes:
the interval and ``slow_down`` live in the database row, not in a process's memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from oauthflow import tokens
from oauthflow.device import polling, user_code
from oauthflow.device.models import DeviceAuthorization, UserCodeFailures
from oauthflow.models import AccessToken, RefreshToken
from tests import factories
from tests.concurrent_requests import THREADS, run_concurrently
from tests.oauth_helpers import token_request

from .conftest import GRANTS
from .helpers import CONFIRM, DONE, GRANT_TYPE, approve, codes, enter, poll

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def answers(results: list) -> list[tuple[int, str | None]]:
    """(status, error) of each token endpoint response."""
    return [(r.status_code, r.json().get("error")) for r in results]


def _row(device_code: str) -> DeviceAuthorization:
    return DeviceAuthorization.objects.get(digest=tokens.digest(device_code))


@pytest.fixture
def tv(transactional_db, postgres_only):
    return factories.PublicClientFactory(
        name="Living-room TV", grant_types=GRANTS, redirect_uris=""
    )


@pytest.fixture
def long_interval(settings):
    """30 seconds between polls: a slow thread, or another process starting up, is
    still well inside it."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_POLLING_INTERVAL": 30}
    return 30


def browser_of(username: str) -> HttpClient:
    """A browser signed in as a new user ``username``."""
    browser = HttpClient()
    browser.force_login(factories.UserFactory(username=username))
    return browser


def test_concurrent_polls_of_an_approved_code_give_one_set_of_tokens(tv):
    device = codes(HttpClient(), tv)
    assert approve(browser_of("alice"), device["user_code"])["Location"] == DONE

    results = run_concurrently(lambda http: poll(http, tv, device["device_code"]))

    statuses = Counter(status for status, _ in answers(results))
    assert statuses == {200: 1, 400: THREADS - 1}, answers(results)
    # A decided request is never slowed down: the losers found the code exchanged.
    assert {error for status, error in answers(results) if status == 400} == {"invalid_grant"}
    assert AccessToken.objects.count() == 1 and RefreshToken.objects.count() == 1
    # Not taken as theft: the winner's tokens stay good, and its refresh token works.
    assert AccessToken.objects.active().count() == 1
    assert RefreshToken.objects.active().count() == 1
    row = _row(device["device_code"])
    assert row.exchanged_at is not None and row.revoked_at is None
    # A late poll, after the exchange committed, is refused the same way and revokes nothing.
    late = poll(HttpClient(), tv, device["device_code"])
    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")
    assert AccessToken.objects.active().count() == 1
    winner = next(r for r in results if r.status_code == 200).json()
    assert AccessToken.objects.get().digest == tokens.digest(winner["access_token"])
    refreshed = token_request(
        HttpClient(), tv, {"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.content


def test_concurrent_polls_of_a_pending_code_slow_down_all_but_one(tv, long_interval):
    device = codes(HttpClient(), tv)
    start = _row(device["device_code"]).poll_interval
    assert start == long_interval
    before = timezone.now()

    results = run_concurrently(lambda http: poll(http, tv, device["device_code"]))

    errors = Counter(error for status, error in answers(results) if status == 400)
    assert sum(errors.values()) == THREADS, answers(results)  # every one a 400
    # The first poll of a fresh code is on time; the others came too soon after it.
    assert errors == {"authorization_pending": 1, "slow_down": THREADS - 1}, answers(results)
    row = _row(device["device_code"])
    # Each slow_down added its 5 seconds (an atomic UPDATE, so none was lost).
    assert row.poll_interval == start + polling.SLOW_DOWN_STEP * errors["slow_down"]
    assert row.next_poll_at > before
    assert row.status == DeviceAuthorization.PENDING


def test_concurrent_allow_and_deny_decide_once(tv):
    device = codes(HttpClient(), tv)
    browsers = [browser_of(f"user{i}") for i in range(THREADS)]
    for browser in browsers:  # each session entered the code and sees the consent page
        entered = enter(browser, device["user_code"])
        assert entered.status_code == 302 and entered["Location"] == CONFIRM
    decisions = ["allow" if i % 2 == 0 else "deny" for i in range(THREADS)]
    # Each consent page's form field, as each browser would post it back.
    forms = [browser.session["oauthflow_device"]["form"] for browser in browsers]

    def post_decision(http):
        i = browsers.index(http)
        return http.post(CONFIRM, {"decision": decisions[i], "form": forms[i]})

    results = run_concurrently(post_decision, clients=browsers)

    won = [i for i, r in enumerate(results) if r.status_code == 302]
    assert len(won) == 1, [r.status_code for r in results]
    assert results[won[0]]["Location"] == DONE
    for r in results:
        if r.status_code != 302:
            assert r.status_code == 400
            assert "expired or has been answered" in r.content.decode()
    winner = won[0]
    row = _row(device["device_code"])
    allowed = decisions[winner] == "allow"
    assert row.status == (DeviceAuthorization.APPROVED if allowed else DeviceAuthorization.DENIED)
    assert row.user.username == f"user{winner}"
    # The device hears the winner's decision, and only the winner's.
    answer = poll(HttpClient(), tv, device["device_code"])
    if allowed:
        assert answer.status_code == 200, answer.content
        issued = AccessToken.objects.get()
        assert issued.user.username == f"user{winner}"
    else:
        assert answer.status_code == 400 and answer.json()["error"] == "access_denied"
        assert not AccessToken.objects.exists()


def test_concurrent_wrong_codes_are_all_counted(tv, settings):
    # Limits above the attempts, so no attempt is refused before it is counted.
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "DEVICE_USER_FAILURES": 100,
        "DEVICE_ADDRESS_FAILURES": 100,
    }
    device = codes(HttpClient(), tv)
    user = factories.UserFactory(username="guesser")
    browsers = []
    for _ in range(THREADS):
        browser = HttpClient()
        browser.force_login(user)
        browsers.append(browser)
    wrong = [user_code.generate() for _ in range(THREADS)]
    right = user_code.normalise(device["user_code"])
    wrong = [code if code != right else code[::-1] for code in wrong]
    assert right not in wrong

    results = run_concurrently(
        lambda http: enter(http, user_code.display(wrong[browsers.index(http)])), clients=browsers
    )

    assert [r.status_code for r in results] == [400] * THREADS
    assert all("not right" in r.content.decode() for r in results)
    # One row for the user, one for the address (127.0.0.1): each counted all eight.
    assert sorted(UserCodeFailures.objects.values_list("failures", flat=True)) == [
        THREADS,
        THREADS,
    ]


# Across processes -----------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os
    from urllib.parse import urlencode

    from django.conf import settings

    # The test database the parent process created (and its test run committed to).
    for alias in settings.DATABASES.values():
        alias["NAME"] = os.environ["CHILD_DB_NAME"]

    import django

    django.setup()

    from django.db import connection
    from django.test import Client

    response = Client().post(
        "/oauth/token/",
        urlencode(
            {
                "grant_type": os.environ["CHILD_GRANT_TYPE"],
                "device_code": os.environ["CHILD_DEVICE_CODE"],
                "client_id": os.environ["CHILD_CLIENT_ID"],
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
    print(json.dumps({
        "pid": os.getpid(),
        "db": connection.settings_dict["NAME"],
        "status": response.status_code,
        "body": response.json(),
    }))
    """
)


def poll_from_another_process(tv, device_code: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "OAUTHFLOW_TEST_DB": os.environ.get("OAUTHFLOW_TEST_DB", "postgres"),
        "CHILD_DB_NAME": connection.settings_dict["NAME"],
        "CHILD_GRANT_TYPE": GRANT_TYPE,
        "CHILD_DEVICE_CODE": device_code,
        "CHILD_CLIENT_ID": tv.client_id,
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["pid"] != os.getpid()
    assert answer["db"] == connection.settings_dict["NAME"]
    return answer


def test_a_poll_in_another_process_makes_the_next_one_here_slow_down(tv, long_interval):
    device = codes(HttpClient(), tv)
    assert device["interval"] == long_interval

    there = poll_from_another_process(tv, device["device_code"])
    here = poll(HttpClient(), tv, device["device_code"])

    assert (there["status"], there["body"]["error"]) == (400, "authorization_pending")
    assert (here.status_code, here.json()["error"]) == (400, "slow_down")
    assert _row(device["device_code"]).poll_interval == long_interval + polling.SLOW_DOWN_STEP


def test_a_poll_here_makes_the_next_one_in_another_process_slow_down(tv, long_interval):
    device = codes(HttpClient(), tv)

    here = poll(HttpClient(), tv, device["device_code"])
    there = poll_from_another_process(tv, device["device_code"])

    assert (here.status_code, here.json()["error"]) == (400, "authorization_pending")
    assert (there["status"], there["body"]["error"]) == (400, "slow_down")
    assert _row(device["device_code"]).poll_interval == long_interval + polling.SLOW_DOWN_STEP
