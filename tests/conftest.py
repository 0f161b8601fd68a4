from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import connection
from django.dispatch import Signal

from tests import factories


@pytest.fixture(autouse=True)
def _fresh_token_cache_outage(monkeypatch):
    """The token cache remembers, per process, that the cache failed it; each test starts
    with a process that has seen no failure."""
    from oauthflow.resource import cache

    monkeypatch.setattr(cache, "_outage", cache._Outage())


@pytest.fixture(autouse=True)
def _fresh_signing_keys():
    """Each process keeps the signing keys it read; a test's keys vanish with its
    transaction, so each test starts with none in memory."""
    from oauthflow import keys

    keys.forget()
    yield
    keys.forget()


@pytest.fixture
def user(db):
    return factories.UserFactory(username="alice")


@pytest.fixture
def signed_in(client, user):
    """Django's test client, signed in as ``user``."""
    client.force_login(user)
    return client


# Signals ------------------------------------------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks) -> Callable[[], AbstractContextManager[Any]]:
    """``with committed(): ...`` runs what the block hands to ``transaction.on_commit`` when
    it ends, as a commit would. oauthflow sends its signals on commit, and the transaction
    each test runs in never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def record() -> Iterator[Callable[[Signal], list[dict[str, Any]]]]:
    """``record(signal)``: a list that collects the keyword arguments of each sending of
    ``signal`` until the test ends (use ``committed`` to let them be sent)."""
    connected: list[tuple[Signal, Callable[..., None]]] = []

    def start(signal: Signal) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        def receiver(**kwargs: Any) -> None:
            sent.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return sent

    yield start
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture
def revocations(record):
    """The keyword arguments of every ``token_revoked`` sent during the test."""
    from oauthflow.signals import token_revoked

    return record(token_revoked)


@pytest.fixture
def client_app(db):
    """A confidential client; ``client_app.secret`` is its clear secret."""
    return factories.ClientFactory(name="Photo Printer")


@pytest.fixture
def public_client(db):
    return factories.PublicClientFactory(name="Desktop App")


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (OAUTHFLOW_TEST_DB=postgres)")


# Resource protection ----------------------------------------------------------------------


@pytest.fixture
def access_token(user, client_app):
    """A live token for ``user`` with the read scope; ``access_token.value`` is its value."""
    return factories.AccessTokenFactory(user=user, client=client_app, scope="read")


@pytest.fixture
def redis_token_cache(settings):
    """Turns the token cache on, on the Redis alias "tokens" (tests use fresh random
    tokens, so their keys never meet another test's; the Redis db is shared, never
    flushed)."""
    from django.core.cache import caches

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    return caches["tokens"]


def bearer(value: str) -> dict[str, str]:
    """Test-client keyword arguments sending ``Authorization: Bearer <value>``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}
