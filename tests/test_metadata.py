import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssMetadata
from django.test import override_settings


def test_metadata_describes_the_server(client, db):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["authorization_endpoint"] == "http://testserver/oauth/authorize/"
    assert body["token_endpoint"] == "http://testserver/oauth/token/"
    assert body["scopes_supported"] == [
        "read",
        "write",
        "profile",
        "openid",
        "email",
        "address",
        "phone",
    ]
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
        "private_key_jwt",  # oauthflow.private_key_jwt is installed
    }
    assert body["authorization_response_iss_parameter_supported"] is True


@override_settings(
    OAUTHFLOW={"ISSUER": "https://auth.example.com", "ALLOW_INSECURE_TRANSPORT": True}
)
def test_metadata_uses_the_configured_issuer_and_validates(client, db):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "https://auth.example.com"
    assert body["token_endpoint"] == "https://auth.example.com/oauth/token/"
    metadata = AuthorizationServerMetadata(body)
    metadata.validate(metadata_classes=[IssMetadata])


def test_head_is_answered_like_get(client, db):
    response = client.head("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["post", "put", "delete", "trace", "options"])
def test_other_methods_are_refused(client, db, method):
    response = getattr(client, method)("/.well-known/oauth-authorization-server")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_a_cors_preflight_is_answered(client, db):
    response = client.options(
        "/.well-known/oauth-authorization-server",
        HTTP_ORIGIN="https://spa.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD"
