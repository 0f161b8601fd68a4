"""drf-spectacular shows the oauth2 security scheme and each operation's scopes, with no
code in the project."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture
def schema(settings):
    settings.ROOT_URLCONF = "tests.testapp.schema_urls"
    settings.REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}

    def generate():
        return SchemaGenerator().get_schema(request=None, public=True)

    return generate


def security(schema, path, method):
    return schema["paths"][path][method]["security"]


def test_security_scheme_has_the_code_and_client_credentials_flows(schema):
    scheme = schema()["components"]["securitySchemes"]["oauth2"]
    scopes = {
        "read": "Read your data",
        "write": "Change your data",
        "profile": "See your name and email address",
        # OpenID Connect's, installed in the tests.
        "openid": "Sign you in with your account on this site",
        "email": "See your email address",
        "address": "See your postal address",
        "phone": "See your phone number",
    }
    assert scheme == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize/",
                "tokenUrl": "/oauth/token/",
                "refreshUrl": "/oauth/token/",
                "scopes": scopes,
            },
            "clientCredentials": {"tokenUrl": "/oauth/token/", "scopes": scopes},
        },
    }


def test_urls_are_absolute_under_the_issuer(schema, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ISSUER": "https://auth.example.com"}
    flow = schema()["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "https://auth.example.com/oauth/authorize/"
    assert flow["tokenUrl"] == "https://auth.example.com/oauth/token/"


def test_operations_list_their_scopes(schema):
    result = schema()
    assert security(result, "/api/read/", "get") == [{"oauth2": ["read"]}]
    assert security(result, "/api/read-write/", "get") == [{"oauth2": ["read"]}]
    assert security(result, "/api/read-write/", "post") == [{"oauth2": ["write"]}]
    assert security(result, "/api/read-write/", "delete") == [{"oauth2": ["write"]}]


def test_viewset_actions_list_their_scopes(schema):
    result = schema()
    assert security(result, "/api/notes/", "get") == [{"oauth2": ["read"]}]
    assert security(result, "/api/notes/", "post") == [{"oauth2": ["write"]}]
    assert security(result, "/api/notes/{id}/", "get") == [{"oauth2": ["read", "profile"]}]
    # An action without scopes is a configuration error: the schema still builds.
    assert security(result, "/api/notes/{id}/", "delete") == [{"oauth2": []}]


def test_composed_permissions_show_the_token_scopes(schema):
    assert security(schema(), "/api/write-or-admin/", "get") == [{"oauth2": ["write"]}]


def test_other_authenticators_stay_alternatives(schema):
    assert security(schema(), "/api/session-or-token/", "get") == [
        {"oauth2": ["read"]},
        {"cookieAuth": []},
    ]
