"""A client that registers itself (RFC 7591) with its public keys, then authenticates
with them: registration and private_key_jwt together."""

from __future__ import annotations

import json

import pytest

from oauthflow.models import AccessToken, Client
from tests.oauth_helpers import TOKEN, post_form
from tests.registration.conftest import (  # noqa: F401 (fixtures)
    initial_token,
    mode,
    post_json,
    register,
    with_tokens,
)

from .helpers import ClientKey, form

BATCH_JOB = {
    "client_name": "Nightly export",
    "grant_types": ["client_credentials"],
    "token_endpoint_auth_method": "private_key_jwt",
    "scope": "read",
}


@pytest.fixture
def machines(settings, initial_token):  # noqa: F811
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "REGISTRATION_GRANT_TYPES": ["client_credentials", "authorization_code"],
    }
    return initial_token


def test_register_with_keys_then_authenticate_with_them(client, machines):
    key = ClientKey()
    body = register(client, {**BATCH_JOB, "jwks": json.loads(key.jwks())}, machines)
    assert "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    registered = Client.objects.get(client_id=body["client_id"])
    assert registered.auth_methods == ("private_key_jwt",) and not registered.has_secret

    response = post_form(
        client,
        TOKEN,
        {
            "grant_type": "client_credentials",
            "scope": "read",
            **form(registered.client_id, key.assertion(registered.client_id)),
        },
    )
    assert response.status_code == 200, response.content
    assert AccessToken.objects.filter(client=registered).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({}, id="no-keys"),
        pytest.param({"jwks": {"keys": [ClientKey().key.as_dict(private=True)]}}, id="private-key"),
        pytest.param({"jwks": {"keys": []}}, id="empty-set"),
        pytest.param({"jwks": "not an object"}, id="jwks-string"),
        pytest.param({"jwks_uri": "http://jwks.example/keys"}, id="jwks-uri-http"),
        pytest.param(
            {"jwks": {"keys": [ClientKey().public_jwk()]}, "jwks_uri": "https://a.example/j"},
            id="both",
        ),
    ],
)
def test_keys_a_registration_cannot_have(client, machines, change):
    response = post_json(client, {**BATCH_JOB, **change}, machines)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_client_metadata"
    assert not Client.objects.exists()
