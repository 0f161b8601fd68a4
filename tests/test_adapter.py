"""The policy adapter: one class a site names in OAUTHFLOW["ADAPTER"]."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oauthflow.adapter import DefaultAdapter, get_adapter
from tests import factories
from tests.oauth_helpers import authorize_url, basic, new_verifier, query_of


class PublicIdAdapter(DefaultAdapter):
    def get_subject(self, user):
        return f"user-{user.username}"


class AlwaysAskAdapter(DefaultAdapter):
    def may_skip_consent(self, request, **kwargs):
        return False


@pytest.fixture
def adapter(settings):
    def use(cls: type[DefaultAdapter]) -> DefaultAdapter:
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ADAPTER": f"{__name__}.{cls.__name__}"}
        return get_adapter()

    return use


def test_the_default_adapter_is_used_when_none_is_named(db):
    assert type(get_adapter()) is DefaultAdapter


def test_the_named_adapter_is_used_and_follows_the_setting(adapter):
    assert isinstance(adapter(PublicIdAdapter), PublicIdAdapter)
    assert isinstance(adapter(AlwaysAskAdapter), AlwaysAskAdapter)


def test_plain_oauth_scopes_release_no_claims(user):
    assert get_adapter().get_user_claims(user, ["read", "write"]) == {}


def test_default_claims_come_from_the_user_model(user):
    user.first_name, user.last_name, user.email = "Alice", "Liddell", "alice@example.com"
    claims = get_adapter().get_user_claims(user, ["profile", "email"])
    assert claims == {
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "email": "alice@example.com",
    }
    # Nobody said the address was checked: email_verified is left out, not false.
    assert "email_verified" not in claims


def test_empty_values_are_left_out(user):
    user.first_name = user.last_name = user.email = ""
    assert get_adapter().get_user_claims(user, ["profile", "email"]) == {
        "preferred_username": "alice"
    }


def test_the_subject_comes_from_the_adapter(client, user, adapter):
    adapter(PublicIdAdapter)
    api = factories.ClientFactory(may_introspect=True)
    token = factories.AccessTokenFactory(user=user)
    response = client.post(
        "/oauth/introspect/",
        urlencode({"token": token.value}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(api.client_id, api.secret),
    )
    assert response.json()["sub"] == "user-alice"


def test_the_consent_policy_comes_from_the_adapter(signed_in, adapter):
    first_party = factories.ClientFactory(skip_consent=True)
    url = authorize_url(first_party, verifier=new_verifier())
    skipped = signed_in.get(url)
    assert skipped.status_code == 302 and "code" in query_of(skipped["Location"])
    adapter(AlwaysAskAdapter)
    assert signed_in.get(url).status_code == 200  # the consent page
