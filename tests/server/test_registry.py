"""The registry: a grant added with one registration appears everywhere it should, and
extensions reach every grant through Authlib's hooks."""

from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from authlib.oauth2.rfc6749 import UnauthorizedClientError, grants
from authlib.oauth2.rfc6749.endpoint import Endpoint
from authlib.oauth2.rfc6749.hooks import hooked
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from oauthflow.models import AccessToken, Client
from oauthflow.server import get_server
from oauthflow.server.grants.base import CONFIDENTIAL_AUTH_METHODS, GrantMixin
from oauthflow.server.registry import registry
from tests import factories
from tests.oauth_helpers import basic, exchange, get_code, new_verifier, token_request

TOY = "urn:example:params:oauth:grant-type:toy"


class ToyGrant(GrantMixin, grants.BaseGrant, grants.TokenEndpointMixin):
    """A grant a capability might add: a confidential client asks for a token for itself."""

    GRANT_TYPE = TOY
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS
    CONFIDENTIAL_ONLY_BECAUSE = "The toy grant is for confidential clients."

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError()
        self.request.client = client

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


@pytest.fixture
def toy_grant():
    registry.register_grant(ToyGrant)  # the one line a capability writes
    yield ToyGrant
    registry.unregister_grant(TOY)


def test_a_registered_grant_is_in_the_metadata(client, db, toy_grant):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert TOY in body["grant_types_supported"]


def test_a_registered_grant_is_served_at_the_token_endpoint(client, db, toy_grant):
    app = factories.ClientFactory(grant_types=f"authorization_code refresh_token {TOY}")
    response = token_request(client, app, {"grant_type": TOY, "scope": "read"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "read" and "refresh_token" not in body
    assert AccessToken.objects.get().client == app


def test_a_client_without_the_grant_is_unauthorized(client, db, toy_grant):
    app = factories.ClientFactory()
    response = token_request(client, app, {"grant_type": TOY})
    assert response.json()["error"] == "unauthorized_client"


def test_the_unsupported_grant_type_message_lists_what_is_registered(client, db, toy_grant):
    app = factories.ClientFactory()
    response = token_request(client, app, {"grant_type": "urn:nope"})
    assert response.json()["error"] == "unsupported_grant_type"
    assert TOY in response.json()["error_description"]


def test_unregistered_the_grant_is_gone_again(client, db):
    registry.register_grant(ToyGrant)
    registry.unregister_grant(TOY)
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert TOY not in body["grant_types_supported"]
    app = factories.ClientFactory()
    assert token_request(client, app, {"grant_type": TOY}).status_code == 400


def test_the_admin_offers_the_registered_grant(admin_client, toy_grant):
    page = admin_client.get(reverse("admin:oauthflow_client_add")).content.decode()
    assert f'value="{TOY}"' in page


def test_client_validation_applies_the_grants_own_rules(db, toy_grant):
    confidential = Client(name="c", grant_types=TOY)
    confidential.full_clean()  # known to the field's validator, no redirect URI needed
    public = Client(name="p", client_type=Client.PUBLIC, grant_types=TOY)
    with pytest.raises(ValidationError) as error:
        public.full_clean()
    assert error.value.message_dict["grant_types"] == [ToyGrant.CONFIDENTIAL_ONLY_BECAUSE]


def test_the_command_offers_the_registered_grant(db, toy_grant):
    out = io.StringIO()
    call_command(
        "oauthflow_client", "create", "--name", "Toy", "--grant-type", TOY, "--json", stdout=out
    )
    assert json.loads(out.getvalue())["grant_types"] == [TOY]


def test_an_unknown_grant_type_is_refused_by_the_model(db):
    with pytest.raises(ValidationError) as error:
        Client(name="c", grant_types=TOY).full_clean()
    assert "Unknown grant type" in str(error.value)


# Extensions through Authlib's hooks ----------------------------------------------------------


class AddsAField:
    """An Authlib grant extension, as OpenID Connect's are: it hooks the token response."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.add_field)

    def add_field(self, grant: Any, response: tuple[int, dict[str, Any], list[Any]]) -> None:
        _, body, _ = response
        body["example_field"] = grant.GRANT_TYPE


@pytest.fixture
def every_grant_extended():
    extension = AddsAField()
    registry.register_grant_extension(extension)
    yield
    registry.unregister_grant_extension(extension)


def test_an_extension_reaches_every_grants_token_response(
    signed_in, every_grant_extended, toy_grant
):
    app = factories.ClientFactory(
        grant_types=f"authorization_code refresh_token client_credentials {TOY}"
    )
    verifier = new_verifier()
    code = get_code(signed_in, app, verifier=verifier)
    first = exchange(signed_in, app, code, verifier).json()
    refreshed = token_request(
        signed_in, app, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    ).json()
    own = token_request(signed_in, app, {"grant_type": "client_credentials", "scope": "read"})
    toy = token_request(signed_in, app, {"grant_type": TOY, "scope": "read"})
    own, toy = own.json(), toy.json()
    assert [r["example_field"] for r in (first, refreshed, own, toy)] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        TOY,
    ]


def test_an_extension_for_one_grant_type_reaches_only_that_grant(signed_in, client_app):
    extension = AddsAField()
    registry.register_grant_extension(extension, ["refresh_token"])
    try:
        verifier = new_verifier()
        code = get_code(signed_in, client_app, verifier=verifier)
        first = exchange(signed_in, client_app, code, verifier).json()
        refreshed = token_request(
            signed_in,
            client_app,
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        ).json()
    finally:
        registry.unregister_grant_extension(extension)
    assert "example_field" not in first
    assert refreshed["example_field"] == "refresh_token"


# Endpoints and client authentication methods ---------------------------------------------


class EchoEndpoint(Endpoint):
    """A registered endpoint: authenticates the client, echoes its client_id."""

    ENDPOINT_NAME = "echo"
    URL_NAME = "oauthflow:token"  # any installed URL will do for the metadata entry

    @classmethod
    def metadata(cls, url: str) -> dict[str, Any]:
        return {"echo_endpoint": url}

    def create_endpoint_response(self, request: Any) -> tuple[int, Any, list[Any]]:
        client = self.server.authenticate_client(request, ["client_secret_basic"], "echo")
        return 200, {"client_id": client.client_id}, [("Content-Type", "application/json")]


@pytest.fixture
def echo_endpoint():
    registry.register_endpoint(EchoEndpoint)
    yield
    registry.unregister_endpoint("echo")


def test_a_registered_endpoint_is_served_and_described(client, client_app, echo_endpoint):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["echo_endpoint"] == "http://testserver/oauth/token/"
    request = RequestFactory().post(
        "/oauth/echo/",
        urlencode({"x": "1"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    response = get_server().create_endpoint_response("echo", request)
    assert json.loads(response.content) == {"client_id": client_app.client_id}


def test_a_registered_client_auth_method_is_used(client, db):
    """A method of one's own (here: a header naming the client) is offered to Authlib and
    used by a grant that lists it."""

    def header_auth(query_client: Any, request: Any) -> Any:
        return query_client(request.headers.get("X-Test-Client", ""))

    app = factories.ClientFactory(grant_types=TOY)
    registry.register_client_auth_method("test_header", header_auth)
    # Which methods a client may use is the client's to say (Client.check_endpoint_auth_method);
    # a capability such as private_key_jwt stores it per client.
    allowed = mock.patch.object(
        Client, "check_endpoint_auth_method", lambda self, method, endpoint: method == "test_header"
    )
    with mock.patch.object(ToyGrant, "TOKEN_ENDPOINT_AUTH_METHODS", ["test_header"]), allowed:
        registry.register_grant(ToyGrant)
        try:
            response = client.post(
                "/oauth/token/",
                urlencode({"grant_type": TOY, "scope": "read"}),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TEST_CLIENT=app.client_id,
            )
            metadata = client.get("/.well-known/oauth-authorization-server").json()
        finally:
            registry.unregister_grant(TOY)
    assert response.status_code == 200, response.content
    assert "test_header" in metadata["token_endpoint_auth_methods_supported"]


def test_threads_never_see_a_half_loaded_registry():
    """The first requests of a fresh process arrive together: none may find the built-ins
    missing while another thread registers them."""
    import threading

    from oauthflow.server.registry import BUILTINS, Registry

    fresh = Registry(BUILTINS)
    seen: list[list[str]] = []
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        seen.append(fresh.grant_types())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [["authorization_code", "refresh_token", "client_credentials"]] * 8
