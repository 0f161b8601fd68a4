"""Fixtures for resources and JWT access tokens."""

from __future__ import annotations

import pytest

from oauthflow.models import Resource
from tests import factories
from tests.jwt.helpers import API


@pytest.fixture
def api_resource(db, settings):
    """A JWT resource, and this site configured as that API."""
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "RESOURCE": API}
    return Resource.objects.create(identifier=API, name="API", token_format="jwt")


@pytest.fixture
def machine(api_resource):
    client = factories.ClientFactory(grant_types="client_credentials")
    client.resources.add(api_resource)
    return client
