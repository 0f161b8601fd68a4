"""The pushed authorization request endpoint (RFC 9126 §2)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request

from .. import tokens
from ..models import Client
from ..server import resources
from ..server.grants.base import CLIENT_AUTH_METHODS
from ..server.request import DjangoOAuth2Request, Payload
from ..settings import oauthflow_settings
from .models import PushedRequest

#: RFC 9126 §2.2: the request_uri's form.
URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: What client authentication adds to the form: not part of the authorization request.
_CLIENT_AUTH = frozenset({"client_secret", "client_assertion", "client_assertion_type"})
#: Most a pushed request may hold, its parameters as JSON (real ones are under 2 KB).
MAX_STORED = 16_384


class PushedAuthorizationEndpoint:
    """An authenticated client pushes an authorization request and gets a reference.

    The parameters are validated as the authorization endpoint validates them (client,
    redirect URI, response type, scope, PKCE, resources), but every error is answered in
    JSON here, never by redirect (§2.3). What needs the signed-in user (OpenID Connect's
    prompt or max_age, consent) is checked when the browser brings the reference.
    """

    ENDPOINT_NAME = "pushed_authorization"
    URL_NAME = "oauthflow:par"
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(self, server: Any) -> None:
        self.server = server

    def __call__(self, request: OAuth2Request) -> tuple[int, Any, list]:
        return self.create_endpoint_response(request)

    def create_endpoint_request(self, request: Any) -> OAuth2Request:
        return self.server.create_oauth2_request(request)

    @classmethod
    def metadata(cls, url: str) -> dict[str, Any]:
        body: dict[str, Any] = {"pushed_authorization_request_endpoint": url}
        if oauthflow_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS:
            body["require_pushed_authorization_requests"] = True
        return body

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, list]:
        client: Client = self.server.authenticate_client(
            request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME
        )
        request.client = client
        data = request.payload.datalist
        if "request_uri" in data:
            raise InvalidRequestError("A pushed request cannot itself name a request_uri.")
        if "request" in data:
            raise OAuth2Error(
                error="request_not_supported", description="Request objects are not supported."
            )
        if data.get("client_id") != [client.client_id]:
            # RFC 9126 §2.1: the authorization request's client_id, the authenticated one.
            raise InvalidRequestError("Send client_id: the authenticated client's.")
        pairs = [
            (key, value)
            for key, values in data.items()
            if key not in _CLIENT_AUTH and key != "client_id"
            for value in values
        ]
        pairs.insert(0, ("client_id", client.client_id))
        _validate(self.server, request, pairs)
        pairs = _bind_to_dpop_key(request, pairs)
        if len(json.dumps(pairs)) > MAX_STORED:
            raise InvalidRequestError("The pushed request is too large.")

        lifetime = oauthflow_settings.PAR_LIFETIME
        request_uri = URN_PREFIX + secrets.token_urlsafe(32)
        from django.utils import timezone

        now = timezone.now()
        PushedRequest.objects.create(
            digest=tokens.digest(request_uri),
            client=client,
            parameters=pairs,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        headers = [*default_json_headers, ("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return 201, {"request_uri": request_uri, "expires_in": lifetime}, headers


def _validate(server: Any, request: OAuth2Request, pairs: list[tuple[str, str]]) -> None:
    """Validate ``pairs`` as an authorization request; every error in JSON."""
    payload = Payload(pairs)
    if payload.repeated():
        raise InvalidRequestError("A parameter is repeated.")
    django_request = request.django_request
    authorization = DjangoOAuth2Request(django_request, payload)
    try:
        grant = server.get_consent_grant(authorization, end_user=None)
        resources.check_authorization(django_request, grant, None)
    except OAuth2Error as error:
        # §2.3: answered to the client, never sent to the redirect URI.
        error.redirect_uri = None
        error.state = None
        raise


def _bind_to_dpop_key(request: OAuth2Request, pairs: list[tuple[str, str]]) -> list[Any]:
    """RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its key, as
    ``dpop_jkt`` would, and must agree with a ``dpop_jkt`` sent too."""
    from django.apps import apps

    from ..dpop import proof

    named = dict(pairs).get("dpop_jkt")
    if named is not None and not proof.THUMBPRINT.fullmatch(named):
        raise InvalidRequestError("dpop_jkt is not a JWK SHA-256 thumbprint.")
    value = request.headers.get("DPoP")
    if value is None or not apps.is_installed("oauthflow.dpop"):
        return pairs
    from ..dpop.errors import InvalidDPoPProofError
    from ..dpop.token_endpoint import checked_proof

    checked = checked_proof(
        value,
        request.django_request,
        "oauthflow:par",
        expected_jkt=named,
        wrong_key=InvalidDPoPProofError("The DPoP proof's key is not dpop_jkt."),
    )
    if named is None:
        pairs = [*pairs, ("dpop_jkt", checked.jkt)]
    return pairs
