"""What a client may register as its keys, and what an authentication method needs."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from joserfc.jwk import ECKey, OctKey, RSAKey

from oauthflow.client_keys import InvalidKeySet, parse_jwks
from oauthflow.models import Client
from tests import factories

from .helpers import ClientKey


def jwks(*keys):
    return json.dumps({"keys": list(keys)})


def errors(client) -> dict:
    with pytest.raises(ValidationError) as caught:
        client.full_clean()
    return caught.value.message_dict


def public_ec(crv="P-256"):
    return ECKey.generate_key(crv).as_dict(private=False)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"keys": {}}',
        '{"keys": []}',
        jwks(*[public_ec() for _ in range(11)]),
        jwks("a string"),
        jwks(ECKey.generate_key("P-256").as_dict(private=True)),
        jwks(OctKey.generate_key(256).as_dict()),
        jwks(RSAKey.generate_key(2048).as_dict(private=True)),
        jwks({**public_ec(), "use": "enc"}),
        jwks({**public_ec(), "kid": 5}),
        jwks({**public_ec(), "kid": "a"}, {**public_ec(), "kid": "a"}),
        jwks(public_ec("P-521")),
        jwks({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        jwks({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
        '{"keys": [' + "1," * 20000 + "1]}",
    ],
)
def test_keys_that_cannot_be_registered(value):
    with pytest.raises(InvalidKeySet):
        parse_jwks(value)


def test_rsa_keys_need_a_sound_size_and_exponent():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = RSAKey.generate_key(1024).as_dict(private=False)
    with pytest.raises(InvalidKeySet):
        parse_jwks(jwks(small))
    good = RSAKey.generate_key(2048).as_dict(private=False)
    assert len(parse_jwks(jwks(good)).keys) == 1
    # e = 3: every verification would still be right, and the key far weaker.
    with pytest.raises(InvalidKeySet):
        parse_jwks(jwks({**good, "e": "Aw"}))


def test_public_ec_and_rsa_keys_are_registered():
    keys = parse_jwks(jwks({**public_ec(), "kid": "a", "use": "sig"}, public_ec("P-384")))
    assert [k.key_type for k in keys.keys] == ["EC", "EC"]


def test_private_key_jwt_needs_keys(db):
    client = factories.ClientFactory.build(token_endpoint_auth_method="private_key_jwt")
    assert "jwks" in errors(client)


def test_keys_or_a_uri_not_both(db):
    key = ClientKey()
    client = factories.ClientFactory.build(
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
        jwks_uri="https://client.example/jwks",
    )
    assert "jwks_uri" in errors(client)


def test_a_jwks_uri_is_https(db):
    client = factories.ClientFactory.build(
        token_endpoint_auth_method="private_key_jwt", jwks_uri="http://client.example/jwks"
    )
    assert "jwks_uri" in errors(client)


def test_the_method_fits_the_client_type(db):
    public = factories.PublicClientFactory.build(token_endpoint_auth_method="client_secret_basic")
    assert "token_endpoint_auth_method" in errors(public)
    public = factories.PublicClientFactory.build(
        token_endpoint_auth_method="private_key_jwt", jwks=ClientKey().jwks()
    )
    assert "token_endpoint_auth_method" in errors(public)
    confidential = factories.ClientFactory.build(token_endpoint_auth_method="none")
    assert "token_endpoint_auth_method" in errors(confidential)
    unknown = factories.ClientFactory.build(token_endpoint_auth_method="client_secret_jwt")
    message = errors(unknown)["token_endpoint_auth_method"][0]
    assert "private_key_jwt" in message


def test_a_key_client_has_no_secret(db):
    key = ClientKey()
    client = factories.ClientFactory(
        grant_types="client_credentials",
        token_endpoint_auth_method="private_key_jwt",
        jwks=key.jwks(),
    )
    client.full_clean()
    assert client.secret is None and not client.has_secret
    with pytest.raises(ValueError):
        client.set_secret()
    assert client.auth_methods == ("private_key_jwt",)
    assert not client.check_client_secret("anything")


def test_moving_a_client_to_keys_drops_its_secret(db):
    client = factories.ClientFactory(grant_types="client_credentials")
    secret = client.secret
    assert client.check_client_secret(secret)
    client.token_endpoint_auth_method = "private_key_jwt"
    client.jwks = ClientKey().jwks()
    client.full_clean()
    client.save()
    client.refresh_from_db()
    assert client.secret_digest == "" and client.secret_hint == ""
    assert not client.check_client_secret(secret)


def test_a_chosen_secret_method_is_the_only_one(db):
    client = factories.ClientFactory(token_endpoint_auth_method="client_secret_post")
    assert client.check_endpoint_auth_method("client_secret_post", "token")
    assert not client.check_endpoint_auth_method("client_secret_basic", "token")
    blank = factories.ClientFactory()
    assert blank.auth_methods == ("client_secret_basic", "client_secret_post")
    assert factories.PublicClientFactory().auth_methods == ("none",)


def test_allowed_origins_are_origins(db):
    client = factories.PublicClientFactory.build(allowed_origins="https://app.example/path")
    assert "allowed_origins" in errors(client)
    client = factories.PublicClientFactory.build(
        allowed_origins="https://app.example\nhttp://127.0.0.1:5173"
    )
    client.full_clean()


def test_unregistered_the_method_is_unknown(db):
    from oauthflow.private_key_jwt import method
    from oauthflow.server.registry import registry

    registry.unregister_client_auth_method("private_key_jwt")
    try:
        client = factories.ClientFactory.build(
            token_endpoint_auth_method="private_key_jwt", jwks=ClientKey().jwks()
        )
        assert "token_endpoint_auth_method" in errors(client)
    finally:
        registry.register_client_auth_method(
            "private_key_jwt", method.authenticate, client_errors=method.client_errors
        )
    assert Client.objects.count() == 0
