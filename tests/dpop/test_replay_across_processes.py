"""A DPoP proof is used once across every process that shares the replay store.

The store is the database (one INSERT into ``oauthflow_dpop_usedproof``; on PostgreSQL)
or a cache (``DPOP_REPLAY_CACHE``: here the suite's Redis alias "tokens"). A proof is
first presented to one OS process and then replayed to another, in both orders, at the
token endpoint and at a protected resource; the second one must be refused. A store kept
in one process's memory would pass every single-process test and fail these.

The other process is this interpreter running ``CHILD``: Django set up with the test
settings, the test database the parent created (committed to: ``transactional_db``) and
the parent's ``OAUTHFLOW``, making one request with ``django.test.Client``. Then eight
threads present one proof at once (PostgreSQL: real concurrent connections): exactly one
is accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client as HttpClient

from oauthflow.dpop.models import UsedProof
from oauthflow.models import AccessToken
from tests import factories
from tests.concurrent_requests import THREADS, run_concurrently
from tests.oauth_helpers import TOKEN, basic, token_request

from .helpers import TOKEN_URL, DPoPKey

ROOT = Path(__file__).resolve().parents[2]
API = "/api/read/"
API_URL = "http://testserver/api/read/"
FORM = "application/x-www-form-urlencoded"
ALREADY_USED = "already used"


# The stores -----------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("database", marks=pytest.mark.postgres),
        pytest.param("redis"),
    ]
)
def store(request, transactional_db, settings):
    """The replay store under test, set in this process's ``OAUTHFLOW`` (the child process
    is given the same). The database store is tested on PostgreSQL; the Redis one on any
    database (every proof has a fresh key and jti, so its keys never meet another test's)."""
    options = {**settings.OAUTHFLOW}
    options.pop("TOKEN_CACHE", None)  # the replay store, and nothing else, differs
    if request.param == "database":
        request.getfixturevalue("postgres_only")
        options.pop("DPOP_REPLAY_CACHE", None)
    else:
        options["DPOP_REPLAY_CACHE"] = "tokens"
    settings.OAUTHFLOW = options
    return request.param


@pytest.fixture
def machine(store):
    """A confidential client acting for itself (committed: the child process sees it)."""
    return factories.ClientFactory(grant_types="client_credentials")


def rows_expected(store: str) -> int:
    """Rows in ``oauthflow_dpop_usedproof`` after one proof was used (then replayed)."""
    return 1 if store == "database" else 0


# The other process ----------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os

    from django.conf import settings

    # The test database the parent process created (and its test committed to), and the
    # parent's OAUTHFLOW (which replay store, among the rest).
    for alias in settings.DATABASES.values():
        alias["NAME"] = os.environ["CHILD_DB_NAME"]
    settings.OAUTHFLOW = json.loads(os.environ["CHILD_OAUTHFLOW"])

    import django

    django.setup()

    from django.db import connection
    from django.test import Client

    from oauthflow.dpop import replay

    request = json.loads(os.environ["CHILD_REQUEST"])
    http = Client()
    if request["method"] == "POST":
        response = http.post(
            request["path"], request["body"], content_type=request["content_type"],
            **request["headers"],
        )
    else:
        response = http.get(request["path"], **request["headers"])
    try:
        body = response.json()
    except ValueError:
        body = response.content.decode()
    print(json.dumps({
        "pid": os.getpid(),
        "db": connection.settings_dict["NAME"],
        "replay_cache": replay.cache_alias(),
        "status": response.status_code,
        "body": body,
        "www_authenticate": response.get("WWW-Authenticate", ""),
    }))
    """
)


def in_another_process(request: dict, settings) -> dict:
    """Make ``request`` (method, path, headers as the test client takes them, and for a
    POST a form body) from a new OS process on the same database and ``OAUTHFLOW``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CHILD_DB_NAME": connection.settings_dict["NAME"],
        "CHILD_OAUTHFLOW": json.dumps(settings.OAUTHFLOW),
        "CHILD_REQUEST": json.dumps({"content_type": FORM, "body": "", **request}),
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["pid"] != os.getpid()
    assert answer["db"] == connection.settings_dict["NAME"]
    expected = settings.OAUTHFLOW.get("DPOP_REPLAY_CACHE") or settings.OAUTHFLOW.get("TOKEN_CACHE")
    assert answer["replay_cache"] == expected  # the child used the store under test
    return answer


# The requests, in this process and as the child makes them --------------------------------


#: What the client asks for: a token for itself (client_credentials, with Basic auth).
TOKEN_REQUEST = {"grant_type": "client_credentials", "scope": "read"}


def child_token_request(client, proof: str) -> dict:
    return {
        "method": "POST",
        "path": TOKEN,
        "body": urlencode(TOKEN_REQUEST),
        "headers": {
            "HTTP_AUTHORIZATION": basic(client.client_id, client.secret),
            "HTTP_DPOP": proof,
        },
    }


def child_resource_request(token: str, proof: str) -> dict:
    return {
        "method": "GET",
        "path": API,
        "headers": {"HTTP_AUTHORIZATION": f"DPoP {token}", "HTTP_DPOP": proof},
    }


def token_here(client, proof: str):
    return token_request(HttpClient(), client, TOKEN_REQUEST, HTTP_DPOP=proof)


def resource_here(token: str, proof: str):
    return HttpClient().get(API, HTTP_AUTHORIZATION=f"DPoP {token}", HTTP_DPOP=proof)


@pytest.fixture
def bound(machine, key) -> str:
    """An access token bound to ``key``, issued in this process."""
    response = token_here(machine, key.proof())
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"
    return response.json()["access_token"]


def assert_token_issued(status: int, body: dict) -> None:
    assert status == 200, body
    assert body["token_type"] == "DPoP"


def assert_token_replay_refused(status: int, body: dict) -> None:
    assert status == 400, body
    assert body["error"] == "invalid_dpop_proof", body
    assert ALREADY_USED in body["error_description"], body


def assert_resource_replay_refused(status: int, challenge: str) -> None:
    assert status == 401, challenge
    assert 'error="invalid_dpop_proof"' in challenge, challenge
    assert ALREADY_USED in challenge, challenge


# Across processes: the token endpoint -----------------------------------------------------


def test_token_request_proof_used_in_another_process_is_refused_here(store, machine, key, settings):
    proof = key.proof()

    there = in_another_process(child_token_request(machine, proof), settings)
    here = token_here(machine, proof)

    assert_token_issued(there["status"], there["body"])
    assert_token_replay_refused(here.status_code, here.json())
    assert AccessToken.objects.filter(jkt=key.jkt).count() == 1
    assert UsedProof.objects.count() == rows_expected(store)
    # The refusal was the replay: a fresh proof from the same key is accepted here.
    fresh = token_here(machine, key.proof())
    assert_token_issued(fresh.status_code, fresh.json())


def test_token_request_proof_used_here_is_refused_in_another_process(store, machine, key, settings):
    proof = key.proof()

    here = token_here(machine, proof)
    there = in_another_process(child_token_request(machine, proof), settings)

    assert_token_issued(here.status_code, here.json())
    assert_token_replay_refused(there["status"], there["body"])
    assert AccessToken.objects.filter(jkt=key.jkt).count() == 1
    assert UsedProof.objects.count() == rows_expected(store)
    # … and a fresh proof is accepted over there.
    fresh = in_another_process(child_token_request(machine, key.proof()), settings)
    assert_token_issued(fresh["status"], fresh["body"])


# Across processes: a protected resource ---------------------------------------------------


def test_resource_proof_used_in_another_process_is_refused_here(store, bound, key, settings):
    proof = key.proof(API_URL, "GET", access_token=bound)

    there = in_another_process(child_resource_request(bound, proof), settings)
    here = resource_here(bound, proof)

    assert there["status"] == 200, there
    assert_resource_replay_refused(here.status_code, here.get("WWW-Authenticate", ""))
    # Two proofs used in all: the token request's and this one (the replay added none).
    assert UsedProof.objects.count() == 2 * rows_expected(store)
    fresh = resource_here(bound, key.proof(API_URL, "GET", access_token=bound))
    assert fresh.status_code == 200, fresh.content


def test_resource_proof_used_here_is_refused_in_another_process(store, bound, key, settings):
    proof = key.proof(API_URL, "GET", access_token=bound)

    here = resource_here(bound, proof)
    there = in_another_process(child_resource_request(bound, proof), settings)

    assert here.status_code == 200, here.content
    assert_resource_replay_refused(there["status"], there["www_authenticate"])
    assert UsedProof.objects.count() == 2 * rows_expected(store)
    fresh = in_another_process(
        child_resource_request(bound, key.proof(API_URL, "GET", access_token=bound)), settings
    )
    assert fresh["status"] == 200, fresh


def test_a_proof_for_the_token_endpoint_is_not_taken_as_used_by_another_key(
    store, machine, key, settings
):
    """The control: the same jti under another key is another proof (the store is keyed
    by key and jti), so the refusals above are of the replay, not of the jti alone."""
    jti = "the-same-jti-" + key.jkt[:8]
    other = DPoPKey()

    there = in_another_process(
        child_token_request(machine, key.proof(claims={"jti": jti})), settings
    )
    here = token_here(machine, other.proof(claims={"jti": jti}))

    assert_token_issued(there["status"], there["body"])
    assert_token_issued(here.status_code, here.json())


# Threads: one proof presented eight times at once ---------------------------------------


@pytest.mark.postgres
def test_one_proof_presented_at_once_by_eight_threads_is_accepted_once_at_the_resource(
    store, postgres_only, bound, key
):
    proof = key.proof(API_URL, "GET", access_token=bound)

    results = run_concurrently(
        lambda http: http.get(API, HTTP_AUTHORIZATION=f"DPoP {bound}", HTTP_DPOP=proof)
    )

    assert Counter(r.status_code for r in results) == {200: 1, 401: THREADS - 1}
    for r in results:
        if r.status_code == 401:
            assert_resource_replay_refused(r.status_code, r.get("WWW-Authenticate", ""))
    assert UsedProof.objects.count() == 2 * rows_expected(store)


@pytest.mark.postgres
def test_one_proof_presented_at_once_by_eight_threads_buys_one_token(
    store, postgres_only, machine, key
):
    proof = key.proof(TOKEN_URL, "POST")
    auth = basic(machine.client_id, machine.secret)
    body = urlencode(TOKEN_REQUEST)

    results = run_concurrently(
        lambda http: http.post(
            TOKEN, body, content_type=FORM, HTTP_AUTHORIZATION=auth, HTTP_DPOP=proof
        )
    )

    assert Counter(r.status_code for r in results) == {200: 1, 400: THREADS - 1}
    for r in results:
        if r.status_code == 400:
            assert_token_replay_refused(r.status_code, r.json())
    assert AccessToken.objects.filter(jkt=key.jkt).count() == 1
    assert UsedProof.objects.count() == rows_expected(store)
