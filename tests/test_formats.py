"""Access token formats: the token endpoint, the resource side and introspection go through
one interface, so a new format needs no change to views or DRF classes.

The toy format here is self-contained (signed with Django's signing, as a JWT format
would be signed with the provider's keys): the resource side accepts its tokens with no
database query.
"""

from __future__ import annotations

import base64
import binascii
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import signing

from oauthflow import formats
from oauthflow.adapter import DefaultAdapter
from oauthflow.formats.base import AccessTokenFormat, GrantedToken
from oauthflow.models import AccessToken
from oauthflow.store.validity import Refusal
from tests import factories
from tests.conftest import bearer
from tests.oauth_helpers import basic, token_request

_SALT = "tests.toy-format"


class ToyToken(GrantedToken):
    def __init__(self, scope: str, client_id: str) -> None:
        self.scope = scope
        self.user = None
        self.client = SimpleNamespace(client_id=client_id)


class ToyFormat(AccessTokenFormat):
    name = "toy"
    self_contained = True

    def generate(self, *, client: Any, user: Any, scope: str, expires_in: int) -> str:
        signed = signing.dumps({"scope": scope, "cid": client.client_id}, salt=_SALT)
        return "toy." + base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")

    def recognises(self, value: str) -> bool:
        return value.startswith("toy.")

    def verify(self, value: str) -> Any:
        try:
            encoded = value[4:] + "=" * (-len(value[4:]) % 4)
            claims = signing.loads(base64.urlsafe_b64decode(encoded).decode(), salt=_SALT)
        except (binascii.Error, UnicodeDecodeError, signing.BadSignature):
            return Refusal.MALFORMED
        return ToyToken(claims["scope"], claims["cid"])


class ToyAdapter(DefaultAdapter):
    def get_access_token_format(self, *, client, user, scope, grant_type):
        return "toy" if grant_type == "client_credentials" else "opaque"


@pytest.fixture
def toy_format(settings):
    formats.register(ToyFormat())
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ADAPTER": f"{__name__}.ToyAdapter"}
    yield
    formats.unregister("toy")


@pytest.fixture
def machine(db):
    return factories.ClientFactory(grant_types="client_credentials", redirect_uris="")


def issue(client, machine) -> str:
    response = token_request(client, machine, {"grant_type": "client_credentials", "scope": "read"})
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_the_token_endpoint_issues_the_format_the_adapter_chooses(client, machine, toy_format):
    value = issue(client, machine)
    assert value.startswith("toy.")
    # Every access token has a row, whatever its format: revocation and introspection.
    assert AccessToken.objects.get().client == machine


def test_the_resource_side_verifies_a_self_contained_token_without_the_database(
    client, machine, toy_format, django_assert_num_queries
):
    value = issue(client, machine)
    with django_assert_num_queries(0):
        response = client.get("/api/read/", **bearer(value))
    assert response.status_code == 200, response.content
    assert response.json()["client_id"] == machine.client_id
    assert response.json()["client_credentials"] is True
    with django_assert_num_queries(0):
        assert client.get("/plain/read/", **bearer(value)).status_code == 200


def test_a_forged_token_of_the_format_is_refused(client, machine, toy_format):
    response = client.get("/api/read/", **bearer("toy.Zm9yZ2Vk"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_introspection_answers_for_the_format_and_sees_revocation(client, machine, toy_format):
    value = issue(client, machine)
    api = factories.ClientFactory(may_introspect=True)

    def introspect() -> dict[str, Any]:
        return client.post(
            "/oauth/introspect/",
            urlencode({"token": value}),
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic(api.client_id, api.secret),
        ).json()

    assert introspect()["active"] is True
    assert introspect()["client_id"] == machine.client_id
    AccessToken.objects.update(revoked_at=AccessToken.objects.get().created_at)
    assert introspect() == {"active": False}


def test_opaque_stays_the_default(client, machine):
    assert issue(client, machine).startswith("ofat_")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ofat_" + "A" * 39 + "x9Qa", "ofat_…x9Qa"),
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlx9Qa", "…x9Qa"),
        ("averyverylongprefix_" + "A" * 40, "…AAAA"),
        ("my_secret_chosen_by_someone", "…eone"),  # not our prefix: only the tail
    ],
)
def test_every_format_gets_a_hint_that_fits_its_column(value, expected):
    from oauthflow import tokens

    assert tokens.hint(value) == expected
    assert len(tokens.hint(value)) <= AccessToken._meta.get_field("hint").max_length
