"""The token cache when Redis fails: the database answers every request, and no revocation
is missed when Redis comes back. A redis-server of the test's own, on a spare port, with
its data kept on disk across the restart (the hard case: stale entries survive)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import caches

from oauthflow.resource import cache as token_cache
from oauthflow.resource import validation
from oauthflow.store import revocation
from oauthflow.store.validity import Refusal
from tests import factories

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="needs redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed program and arguments)
            [
                str(REDIS),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Redis flushes its append-only file
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process(tmp_path):
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_cache(settings, redis_process):
    settings.CACHES = {
        **settings.CACHES,
        "own": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{redis_process.port}/0",
            # Fail fast instead of hanging when Redis is gone.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "own"}
    return caches["own"]


def test_redis_down_every_request_is_answered_by_the_database(
    access_token, own_cache, redis_process, django_assert_num_queries
):
    assert validation.validate(access_token.value) == access_token  # cached
    redis_process.stop()
    with django_assert_num_queries(1):
        assert validation.validate(access_token.value) == access_token
    expired = factories.AccessTokenFactory(expires_at=access_token.created_at)
    assert validation.validate(expired.value) is Refusal.EXPIRED


def test_a_revocation_while_redis_is_down_is_not_missed_when_it_returns(
    access_token, own_cache, redis_process, committed
):
    validation.validate(access_token.value)
    key = token_cache.cache_key(access_token.digest)
    assert own_cache.get(key) not in (None, token_cache.STALE)  # cached
    redis_process.stop()
    with committed():
        revocation.revoke_family(access_token.family, by="admin")  # markers cannot be written
    assert validation.validate(access_token.value) is Refusal.REVOKED  # the database says so
    redis_process.start()
    assert own_cache.get(key) not in (None, token_cache.STALE)  # the old entry survived
    assert validation.validate(access_token.value) is Refusal.REVOKED
    assert own_cache.get(key) == token_cache.STALE  # the postponed marker, now written


def test_a_process_that_saw_the_outage_distrusts_older_entries(
    access_token, own_cache, redis_process, monkeypatch
):
    """Another process revoked during the outage and could not write its marker: this
    one, which saw Redis fail too, does not trust what was cached before."""
    validation.validate(access_token.value)
    redis_process.stop()
    validation.validate(access_token.value)  # this process sees the failure
    type(access_token).objects.filter(pk=access_token.pk).update(
        revoked_at=access_token.created_at
    )  # the other process's revocation, its marker lost
    redis_process.start()
    assert validation.validate(access_token.value) is Refusal.REVOKED


def test_postponed_markers_go_out_when_the_request_ends(
    access_token, own_cache, redis_process, committed
):
    """Not only when this process next reads the cache: a command, or a worker that serves
    no protected view, may never read it again."""
    from django.core.signals import request_finished

    validation.validate(access_token.value)
    key = token_cache.cache_key(access_token.digest)
    redis_process.stop()
    with committed():
        revocation.revoke_family(access_token.family, by="admin")
    redis_process.start()
    assert own_cache.get(key) not in (None, token_cache.STALE)
    request_finished.send(sender=None)
    assert own_cache.get(key) == token_cache.STALE
