import pytest

from tests import factories

from .helpers import DPoPKey


@pytest.fixture
def key():
    return DPoPKey()


@pytest.fixture
def machine(db):
    """A confidential client acting for itself."""
    return factories.ClientFactory(grant_types="client_credentials")


@pytest.fixture
def spa(db):
    """A public client (a browser or mobile app): its refresh tokens get bound."""
    return factories.PublicClientFactory(grant_types="authorization_code refresh_token")
