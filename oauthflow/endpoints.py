"""Token revocation (RFC 7009) and introspection (RFC 7662) on Authlib's endpoints."""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from django.utils import timezone

from . import bearer, lookups, tokens
from .grants import CLIENT_AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS
from .models import AccessToken, Client, RefreshToken
from .revocation import revoke_access_token, revoke_family

_BY_HINT = {"access_token": lookups.access_token, "refresh_token": lookups.refresh_token}


def find_token(value: str, hint: str | None) -> AccessToken | RefreshToken | None:
    """The access or refresh token with this value, looking first where the hint says.

    An unknown hint is ignored (RFC 7009 §2.1), not an error.
    """
    first = _BY_HINT.get(hint or "", lookups.access_token)
    order = [first, *(lookup for lookup in _BY_HINT.values() if lookup is not first)]
    digest = tokens.digest(value)
    for lookup in order:
        found = lookup.get(digest)
        if found is not None:
            return found
    return None


class RevocationEndpoint(_RevocationEndpoint):
    """A client revokes one of its own tokens.

    Revoking a refresh token revokes its whole family (the authorization behind it);
    revoking an access token revokes that token. An unknown token, or another client's,
    gets the same 200 and changes nothing, so the endpoint tells a prober nothing.
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def authenticate_token(self, request: OAuth2Request, client: Client) -> Any:
        value = request.form.get("token")
        if not value:
            raise InvalidRequestError("Missing 'token'.")
        token = find_token(value, request.form.get("token_type_hint"))
        if token is None or not token.check_client(client):
            return None
        return token

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, list]:
        client = self.authenticate_endpoint_client(request)
        token = self.authenticate_token(request, client)
        if token is not None:
            self.revoke_token(token, request)
        return 200, {}, default_json_headers

    def revoke_token(self, token: AccessToken | RefreshToken, request: OAuth2Request) -> None:
        if isinstance(token, RefreshToken):
            revoke_family(token.family, by="client", client=token.client, user=token.user)
        else:
            revoke_access_token(token, by="client")


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """A resource server asks whether a token is live, and what it grants (RFC 7662).

    Only confidential clients flagged ``may_introspect`` may ask; any other caller gets
    401 ``invalid_client``. An expired, revoked, unknown or rotated token, or one whose
    client or user is disabled, is ``{"active": false}`` and nothing more. Access tokens
    go through the same validator as protected views (``oauthflow.bearer``), so the
    answer always agrees with what the API would do.
    """

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

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
        lookups = [_live_access_token, _live_refresh_token]
        if request.form.get("token_type_hint") == "refresh_token":
            lookups.reverse()  # the hint only orders the search (RFC 7662 §2.1)
        token = next((t for t in (lookup(value) for lookup in lookups) if t is not None), None)
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
        if isinstance(token, AccessToken):
            body["token_type"] = "Bearer"
        if token.user is not None:
            body["username"] = token.user.get_username()
            body["sub"] = str(token.user.pk)
        else:
            # Client credentials: the client is the subject (as in RFC 9068 §2.2).
            body["sub"] = token.client.client_id
        return body


def _live_access_token(value: str) -> AccessToken | None:
    verdict = bearer.validate(value)
    return verdict if isinstance(verdict, AccessToken) else None


def _live_refresh_token(value: str) -> RefreshToken | None:
    if not tokens.is_plausible(value):
        return None
    token = lookups.refresh_token.get(tokens.digest(value))
    now = timezone.now()
    if (
        token is None
        or token.revoked_at is not None
        or token.rotated_at is not None
        or token.expires_at <= now
        or token.family_expires_at <= now
        or not token.client.is_active
        or (token.user is not None and not token.user.is_active)
    ):
        return None
    return token
