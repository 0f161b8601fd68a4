import pytest

from tests import factories

GRANTS = "urn:ietf:params:oauth:grant-type:device_code refresh_token"


@pytest.fixture
def tv(db):
    """A public client for the device flow (a TV app, a command-line tool)."""
    return factories.PublicClientFactory(
        name="Living-room TV", grant_types=GRANTS, redirect_uris=""
    )


@pytest.fixture
def console(db):
    """A confidential client for the device flow."""
    return factories.ClientFactory(name="Game console", grant_types=GRANTS, redirect_uris="")
