import pytest
from django.db import connection

from tests import factories


@pytest.fixture
def user(db):
    return factories.UserFactory(username="alice")


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
