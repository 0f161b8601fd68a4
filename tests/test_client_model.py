"""Client validation (Client.clean and field validators), storage normalisation, secrets."""

import pytest
from django.core.exceptions import ValidationError

from oauthflow import tokens
from oauthflow.models import Client
from tests import factories


def make_client(**fields) -> Client:
    defaults = {
        "name": "App",
        "client_type": Client.CONFIDENTIAL,
        "redirect_uris": "https://app.example.com/cb",
        "grant_types": "authorization_code refresh_token",
    }
    return Client(**{**defaults, **fields})


def errors_of(client: Client) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        client.full_clean()
    return excinfo.value.message_dict


def test_a_well_formed_client_is_valid(db):
    make_client(allowed_scopes="read write", default_scopes="read").full_clean()


def test_redirect_uris_are_validated_one_by_one(db):
    errors = errors_of(
        make_client(redirect_uris="https://ok.example.com/cb\nhttp://bad.example.com/cb")
    )
    assert list(errors) == ["redirect_uris"]
    assert "http://bad.example.com/cb must use https" in errors["redirect_uris"][0]


def test_every_bad_redirect_uri_is_reported(db):
    errors = errors_of(make_client(redirect_uris="javascript:alert(1) https://x.example.com/#f"))
    assert len(errors["redirect_uris"]) == 2


def test_authorization_code_needs_a_redirect_uri(db):
    errors = errors_of(make_client(redirect_uris=""))
    assert "needs at least one redirect URI" in errors["redirect_uris"][0]


def test_client_credentials_alone_needs_no_redirect_uri(db):
    make_client(redirect_uris="", grant_types="client_credentials").full_clean()


def test_refresh_token_only_comes_with_authorization_code(db):
    errors = errors_of(make_client(grant_types="refresh_token client_credentials"))
    assert "refresh_token is only issued with authorization_code" in errors["grant_types"][0]


def test_client_credentials_is_refused_to_public_clients(db):
    errors = errors_of(
        make_client(client_type=Client.PUBLIC, grant_types="authorization_code client_credentials")
    )
    assert "only for confidential clients" in errors["grant_types"][0]


def test_unknown_grant_type_is_rejected(db):
    errors = errors_of(make_client(grant_types="authorization_code implicit"))
    assert "Unknown grant type(s): implicit" in errors["grant_types"][0]


def test_unknown_scope_is_rejected(db):
    errors = errors_of(make_client(allowed_scopes="read admin"))
    assert "Unknown scope(s): admin" in errors["allowed_scopes"][0]


def test_malformed_scope_is_rejected(db):
    errors = errors_of(make_client(default_scopes='read "quoted"'))
    assert "Invalid scope name(s)" in errors["default_scopes"][0]


def test_default_scopes_must_be_allowed(db):
    errors = errors_of(make_client(allowed_scopes="read", default_scopes="write"))
    assert "not allowed for this client: write" in errors["default_scopes"][0]


def test_empty_allowed_scopes_means_every_known_scope(db):
    client = make_client(allowed_scopes="", default_scopes="profile")
    client.full_clean()
    # The settings' scopes, then those OpenID Connect (installed in the tests) brings.
    assert client.allowed_scope_list == [
        "read",
        "write",
        "profile",
        "openid",
        "email",
        "address",
        "phone",
    ]


def test_save_normalises_whitespace_and_repeats(db):
    client = make_client(
        redirect_uris="  https://a.example.com/cb   https://b.example.com/cb\n",
        grant_types=" authorization_code  refresh_token authorization_code",
        allowed_scopes="read\twrite read",
    )
    client.save()
    client.refresh_from_db()
    assert client.redirect_uris == "https://a.example.com/cb\nhttps://b.example.com/cb"
    assert client.grant_types == "authorization_code refresh_token"
    assert client.allowed_scopes == "read write"


def test_client_id_is_random_and_unique(db):
    first, second = factories.ClientFactory(), factories.ClientFactory()
    assert first.client_id != second.client_id
    assert len(first.client_id) >= 32


def test_client_id_never_starts_with_a_dash():
    # One in 64 would otherwise, and "oauthflow_client show -abc" reads as an option.
    assert not any(tokens.generate_client_id().startswith("-") for _ in range(2000))


# Secrets ---------------------------------------------------------------------------------


def test_secret_is_stored_only_as_its_digest(db):
    client = factories.ClientFactory()
    secret = client.secret
    assert secret.startswith(tokens.CLIENT_SECRET_PREFIX + "_")
    # Every column of every row, as stored.
    stored = " ".join(str(value) for row in Client.objects.values_list() for value in row)
    assert secret not in stored
    assert secret[5:] not in stored  # nor the random part without its prefix
    assert tokens.digest(secret) in stored


def test_secret_hint_shows_prefix_and_last_four_characters_only(db):
    client = factories.ClientFactory()
    assert client.secret_hint == f"ofcs_…{client.secret[-4:]}"


def test_the_stored_digest_is_not_a_valid_secret(db):
    # A leaked database must not yield credentials: the digest itself does not authenticate.
    client = Client.objects.get(pk=factories.ClientFactory().pk)
    assert client.check_client_secret(client.secret_digest) is False


def test_another_clients_secret_is_rejected(db):
    client, other = factories.ClientFactory(), factories.ClientFactory()
    assert Client.objects.get(pk=client.pk).check_client_secret(other.secret) is False


def test_check_client_secret_accepts_only_the_exact_secret(db):
    client = factories.ClientFactory()
    secret = client.secret
    stored = Client.objects.get(pk=client.pk)
    assert stored.check_client_secret(secret) is True
    assert stored.check_client_secret(secret + "x") is False
    assert stored.check_client_secret(secret[:-1]) is False
    assert stored.check_client_secret("") is False


def test_rotating_the_secret_invalidates_the_old_one(db):
    client = factories.ClientFactory()
    old = client.secret
    new = client.set_secret()
    client.save()
    stored = Client.objects.get(pk=client.pk)
    assert stored.check_client_secret(new) is True
    assert stored.check_client_secret(old) is False


def test_public_client_has_no_secret(db):
    client = factories.PublicClientFactory()
    assert client.secret_digest == "" and client.secret_hint == ""
    assert client.check_client_secret("anything") is False
    with pytest.raises(ValueError):
        client.set_secret()


def test_turning_a_client_public_drops_its_secret(db):
    client = factories.ClientFactory()
    secret = client.secret
    client.client_type = Client.PUBLIC
    client.save()
    client.refresh_from_db()
    assert client.secret_digest == "" and client.secret_hint == ""
    client.client_type = Client.CONFIDENTIAL
    assert client.check_client_secret(secret) is False


@pytest.mark.parametrize("uri", ["http://127.0.0.1/cb", "com.example.app:/cb"])
def test_a_native_app_cannot_skip_consent(db, uri):
    from oauthflow.models import Client

    native = Client(name="n", client_type=Client.PUBLIC, redirect_uris=uri, skip_consent=True)
    with pytest.raises(ValidationError) as error:
        native.full_clean()
    assert "cannot skip consent" in error.value.message_dict["skip_consent"][0]
    web = Client(
        name="w", client_type=Client.PUBLIC, redirect_uris="https://w.example/cb", skip_consent=True
    )
    web.full_clean()
