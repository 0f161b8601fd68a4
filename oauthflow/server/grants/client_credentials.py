"""The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import UnauthorizedClientError, grants
from authlib.oauth2.rfc6749.hooks import hooked
from django.utils.translation import gettext_lazy as _

from ...models import GrantType
from .base import CONFIDENTIAL_AUTH_METHODS, GrantMixin


class ClientCredentialsGrant(GrantMixin, grants.ClientCredentialsGrant):
    """An access token for the client itself: no user, no refresh token."""

    GRANT_TYPE = str(GrantType.CLIENT_CREDENTIALS)
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS
    WRITES_ONE_ROW = True  # the access token
    CONFIDENTIAL_ONLY_BECAUSE = _(
        "client_credentials is only for confidential clients (RFC 6749 §4.4)."
    )

    def validate_token_request(self) -> None:
        super().validate_token_request()
        if not self.request.client.is_confidential:
            raise UnauthorizedClientError("client_credentials is for confidential clients.")

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Authlib's version logs the token dict at DEBUG; ours never logs a token.
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
