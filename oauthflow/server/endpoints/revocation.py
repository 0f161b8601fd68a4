"""Token revocation (RFC 7009) on Authlib's endpoint."""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from ... import tokens
from ...models import AccessToken, Client, RefreshToken
from ...store import lookups
from ...store.revocation import revoke_access_token, revoke_family
from ..grants.base import CLIENT_AUTH_METHODS
from ..registry import registry

_BY_HINT: dict[str, lookups.RowLookup[Any]] = {
    "access_token": lookups.access_token,
    "refresh_token": lookups.refresh_token,
}


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
    URL_NAME = "oauthflow:revoke"

    @classmethod
    def metadata(cls, url: str) -> dict[str, Any]:
        return {
            "revocation_endpoint": url,
            "revocation_endpoint_auth_methods_supported": registry.endpoint_auth_methods(
                cls.CLIENT_AUTH_METHODS
            ),
        }

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
