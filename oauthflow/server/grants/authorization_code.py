"""The authorization code grant (RFC 6749 §4.1) with PKCE, held to RFC 9700."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6749.hooks import hooked
from django.db import router, transaction

from ... import tokens
from ...models import AuthorizationCode, Client, GrantType
from ...store import lookups
from ...store.issue import issue_code
from .base import GrantMixin, find_credential, use_once


class AuthorizationCodeGrant(GrantMixin, grants.AuthorizationCodeGrant):
    """A code for the user's consent, redeemed once for tokens.

    Redemption is the store's conditional UPDATE, run first inside the token endpoint's
    transaction: of two concurrent requests exactly one wins, and the other writes nothing.
    """

    GRANT_TYPE = str(GrantType.AUTHORIZATION_CODE)
    ISSUES_REFRESH_TOKEN = True
    NEEDS_REDIRECT_URI = True

    def __init__(self, request: OAuth2Request, server: Any) -> None:
        super().__init__(request, server)
        # Runs before Authlib's own scope check, which answers invalid_scope without
        # saying why.
        self.register_hook("before_validate_authorization_request_payload", _explain_scope)

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: Client) -> str:
        # Authlib's version echoes the URI into error_description; ours never echoes input.
        redirect_uri = request.payload.redirect_uri
        if redirect_uri:
            if not client.check_redirect_uri(redirect_uri):
                raise InvalidRequestError("The redirect_uri is not registered for this client.")
            return redirect_uri
        redirect_uri = client.get_default_redirect_uri()
        if not redirect_uri:
            raise InvalidRequestError(
                "Missing 'redirect_uri': the client has several registered, name one."
            )
        return redirect_uri

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # Authlib compares redirect_uri only when the authorization request named one.
        # When it did not, the code went to the client's single registered URI, and a
        # redirect_uri sent now must be that one (RFC 6749 §4.1.3).
        sent = self.request.payload.redirect_uri
        code: AuthorizationCode = self.request.authorization_code
        if (
            sent
            and not code.redirect_uri
            and sent != self.request.client.get_default_redirect_uri()
        ):
            raise InvalidGrantError("Invalid 'redirect_uri' in request.")

    def generate_authorization_code(self) -> str:
        return tokens.generate(tokens.AUTHORIZATION_CODE_PREFIX)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> AuthorizationCode:
        """Store the code, then run the ``after_save_authorization_code`` hooks (OpenID
        Connect records the authentication there), all in one transaction."""
        data = request.payload.data
        with transaction.atomic(using=router.db_for_write(AuthorizationCode)):
            saved = issue_code(
                code,
                client=request.client,
                user=request.user,
                scope=request.scope or "",
                redirect_uri=data.get("redirect_uri") or "",
                code_challenge=data.get("code_challenge") or "",
                code_challenge_method=data.get("code_challenge_method") or "",
                resource=" ".join(request.payload.datalist.get("resource", [])),
            )
            self.execute_hook("after_save_authorization_code", saved)
        return saved

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        # Reuse detection only within the code's short lifetime: an old code found in a
        # log cannot be used to revoke the user's authorization long after.
        found: AuthorizationCode | None = find_credential(
            lookups.code_for_grant, code, client, "authorization_code"
        )
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Never called: redemption is the guarded UPDATE in create_token_response."""

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        code: AuthorizationCode = self.request.authorization_code
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError("The user of this code is no longer active.")
        use_once(code, "authorization_code")
        self.request.user = user
        self.request.consumed = code
        token = self.generate_token(
            user=user,
            scope=code.get_scope(),
            include_refresh_token=self.request.client.check_grant_type(GrantType.REFRESH_TOKEN),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _explain_scope(grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
    problem = grant.request.client.scope_problem(grant.request.payload.scope)
    if problem:
        raise InvalidScopeError(problem)
