"""Token introspection (RFC 7662) on Authlib's endpoint."""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from ... import formats, tokens
from ...models import AccessToken, Client, RefreshToken
from ...resource.validation import validate
from ...store import lookups
from ...store.validity import refusal
from ...subjects import subject_for
from ..grants.base import CONFIDENTIAL_AUTH_METHODS
from ..registry import registry


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """A resource server asks whether a token is live, and what it grants (RFC 7662).

    Only confidential clients flagged ``may_introspect`` may ask; any other caller gets
    401 ``invalid_client``. An expired, revoked, unknown or rotated token, or one whose
    client or user is disabled, is ``{"active": false}`` and nothing more. Access tokens
    go through the same validation as protected views (``oauthflow.resource``), so the
    answer agrees with what the API would do; for a self-contained format it also reads
    the row, so it sees a revocation the API (verifying the value alone) cannot.
    """

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS
    URL_NAME = "oauthflow:introspect"

    @classmethod
    def metadata(cls, url: str) -> dict[str, Any]:
        return {
            "introspection_endpoint": url,
            "introspection_endpoint_auth_methods_supported": registry.endpoint_auth_methods(
                cls.CLIENT_AUTH_METHODS
            ),
        }

    def authenticate_endpoint_client(self, request: OAuth2Request) -> Client:
        client = super().authenticate_endpoint_client(request)
        if not client.may_introspect:
            raise InvalidClientError(
                status_code=401, description="This client may not introspect tokens."
            )
        return client

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, list]:
        self.authenticate_endpoint_client(request)
        value = request.form.get("token")
        if not value:
            raise InvalidRequestError("Missing 'token'.")
        finders = [_live_access_token, _live_refresh_token]
        if request.form.get("token_type_hint") == "refresh_token":
            finders.reverse()  # the hint only orders the search (RFC 7662 §2.1)
        token = next((t for t in (find(value) for find in finders) if t is not None), None)
        if token is None:
            return 200, {"active": False}, default_json_headers
        return 200, self.introspect_token(token), default_json_headers

    def introspect_token(self, token: AccessToken | RefreshToken) -> dict[str, Any]:
        body: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.client.client_id,
            "exp": int(token.expires_at.timestamp()),
            "iat": int(token.created_at.timestamp()),
        }
        if token.jkt:  # bound to a DPoP key (RFC 9449 §6.2)
            body["cnf"] = {"jkt": token.jkt}
        if isinstance(token, AccessToken):
            body["token_type"] = token.token_type
            audience = token.resource.split()
            if audience:  # RFC 7662 §2.2 / RFC 8707: the resources it is for
                body["aud"] = audience[0] if len(audience) == 1 else audience
        if token.user is not None:
            body["username"] = token.user.get_username()
            # What the client itself sees: pairwise for a pairwise client.
            body["sub"] = subject_for(token.user, token.client)
        else:
            # Client credentials: the client is the subject (as in RFC 9068 §2.2).
            body["sub"] = token.client.client_id
        return body


def _live_access_token(value: str) -> AccessToken | None:
    token_format = formats.recognise(value)
    if token_format is None:
        return None
    if not token_format.self_contained:
        verdict = validate(value, bound_ok=True)  # the answer names the key (cnf)
        return verdict if isinstance(verdict, AccessToken) else None
    # A self-contained token (a JWT for some resource, perhaps not this host's): the
    # provider's row, found by the value's digest, says whether it lives and what it is.
    row = lookups.access_token.get(tokens.digest(value))
    return row if row is not None and refusal(row) is None else None


def _live_refresh_token(value: str) -> RefreshToken | None:
    if not tokens.is_plausible(value):  # refresh tokens are always opaque
        return None
    token = lookups.refresh_token.get(tokens.digest(value))
    if token is None or refusal(token) is not None:
        return None
    return token
