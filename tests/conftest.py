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
