import pytest


@pytest.fixture(autouse=True)
def _bearer_only():
    """These tests describe a site that accepts Bearer alone (without oauthflow.dpop), and
    its exact challenges; tests/dpop covers a site that accepts both schemes."""
    from oauthflow.resource import schemes

    saved = schemes.accepted()
    schemes.unregister("DPoP")
    yield
    schemes._schemes[:] = saved
