"""Authlib's grants, wired to our models and held to RFC 9700.

Each grant overrides Authlib's storage hooks and, where the order of writes matters for
single use, ``create_token_response``: the conditional UPDATE that consumes a code or a
refresh token runs first, inside the token endpoint's transaction, so of two concurrent
requests exactly one wins and the other writes nothing.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN
from django.utils import timezone

from . import lookups, tokens
from .models import AuthorizationCode, Client, RefreshToken
from .scope import list_to_scope, scope_to_list
from .settings import oauthflow_settings

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class ReuseDetected(InvalidGrantError):
    """A consumed code or rotated refresh token came back: the authorization is compromised.

    Raised inside the token transaction; the server revokes ``family`` after the rollback.
    """

    def __init__(self, credential: str, family: uuid.UUID, client: Client, user: Any):
        super().__init__(description=f"This {credential.replace('_', ' ')} was already used.")
        self.credential = credential
        self.family = family
        self.client = client
        self.user = user


def _consume(credential: AuthorizationCode | RefreshToken, field: str, kind: str) -> None:
    """Mark a code redeemed or a refresh token rotated, once.

    The conditional UPDATE is the guard: of several concurrent requests exactly one
    matches the row. The others presented a credential that is being used right now by
    someone else, which is reuse too (RFC 9700 §4.14.2), so they revoke the family.
    """
    updated = (
        type(credential)
        .objects.filter(pk=credential.pk, revoked_at__isnull=True, **{f"{field}__isnull": True})
        .update(**{field: timezone.now()})
    )
    if updated != 1:
        if type(credential).objects.filter(pk=credential.pk, revoked_at__isnull=False).exists():
            raise InvalidGrantError("This grant was revoked.")  # revoked meanwhile, not reused
        raise ReuseDetected(kind, credential.family, credential.client, credential.user)


def _active_user(credential: Any) -> Any:
    user = credential.user
    return user if user is not None and user.is_active else None


class PKCE(CodeChallenge):
    """RFC 7636 with only S256, required of every client by default (RFC 9700 §2.1.1).

    Authlib's extension accepts ``plain`` and lets a missing challenge through at the
    authorization endpoint; we do not. At the token endpoint every failure, missing or
    wrong verifier, is ``invalid_grant`` so a probe learns nothing about which it was.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        request: OAuth2Request = grant.request
        challenge = request.payload.data.get("code_challenge")
        method = request.payload.data.get("code_challenge_method")
        if not challenge:
            if method or pkce_required(request.client):
                raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
            return
        if not CODE_CHALLENGE_PATTERN.match(challenge):
            raise InvalidRequestError("Invalid 'code_challenge'.")
        # An absent method means "plain" (RFC 7636 §4.3), which is not supported.
        if method != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        request: OAuth2Request = grant.request
        verifier = request.form.get("code_verifier")
        code: AuthorizationCode = request.authorization_code
        challenge = code.code_challenge
        if not challenge:
            if verifier:
                # RFC 9700 §4.8.2: a verifier for a code issued without a challenge.
                raise InvalidGrantError("The authorization request had no code_challenge.")
            if pkce_required(request.client):
                raise InvalidGrantError("Missing 'code_verifier'.")
            return
        if not verifier or not CODE_VERIFIER_PATTERN.match(verifier):
            raise InvalidGrantError("Missing or malformed 'code_verifier'.")
        expected = create_s256_code_challenge(verifier)
        if not hmac.compare_digest(expected.encode(), challenge.encode()):
            raise InvalidGrantError("Code verifier does not match the challenge.")


def pkce_required(client: Client | None) -> bool:
    if client is None or not client.is_confidential:
        return True
    return oauthflow_settings.PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    #: Whether create_token_response writes a single row (no transaction needed).
    WRITES_ONE_ROW = False

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
        data = request.payload.data
        lifetime = oauthflow_settings.AUTHORIZATION_CODE_LIFETIME
        return AuthorizationCode.objects.create(
            digest=tokens.digest(code),
            hint=tokens.hint(code),
            client=request.client,
            user=request.user,
            scope=request.scope or "",
            redirect_uri=data.get("redirect_uri") or "",
            code_challenge=data.get("code_challenge") or "",
            code_challenge_method=data.get("code_challenge_method") or "",
            expires_at=timezone.now() + timedelta(seconds=lifetime),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        found = lookups.code_for_grant.get(tokens.digest(code))
        # An expired code is just invalid, even if it was redeemed: reuse detection only
        # within the code's short lifetime, so an old code found in a log cannot be used
        # to revoke the user's authorization long after.
        if found is None or not found.check_client(client) or found.is_revoked():
            return None
        found.client = client  # the same row, already loaded by client authentication
        if found.is_expired():
            return None
        if found.redeemed_at is not None:
            raise ReuseDetected("authorization_code", found.family, client, found.user)
        return found

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Any:
        return _active_user(authorization_code)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Never called: redemption is the guarded UPDATE in create_token_response."""

    def create_token_response(self) -> tuple[int, dict, list]:
        code: AuthorizationCode = self.request.authorization_code
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError("The user of this code is no longer active.")
        _consume(code, "redeemed_at", "authorization_code")
        self.request.user = user
        token = self.generate_token(
            user=user,
            scope=code.get_scope(),
            include_refresh_token=self.request.client.check_grant_type("refresh_token"),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: every use issues a new refresh token and retires the old one."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    WRITES_ONE_ROW = False

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        found = lookups.refresh_token_for_grant.get(tokens.digest(refresh_token))
        client = self.request.client
        if found is None or found.is_revoked() or not found.check_client(client):
            return None
        found.client = client  # the same row, already loaded by client authentication
        # A rotated token is reuse evidence for as long as its family may live, even after
        # its own idle expiry (a thief may have rotated first); after that, just invalid.
        if found.family_expires_at <= timezone.now():
            return None
        if found.rotated_at is not None:
            raise ReuseDetected("refresh_token", found.family, client, found.user)
        if found.is_expired():
            return None
        return found

    def authenticate_user(self, refresh_token: RefreshToken) -> Any:
        return _active_user(refresh_token)

    def _validate_token_scope(self, token: RefreshToken) -> None:
        requested = scope_to_list(self.request.payload.scope)
        if not set(requested) <= set(token.scope_list):
            raise InvalidScopeError("The scope is wider than the original grant.")

    def issue_token(self, user: Any, refresh_token: RefreshToken) -> dict[str, Any]:
        # A blank or absent scope means the original grant (RFC 6749 §6), never the
        # client's default scopes; a narrower one narrows only the access token.
        scope = list_to_scope(scope_to_list(self.request.payload.scope)) or refresh_token.scope
        return self.generate_token(user=user, scope=scope, include_refresh_token=True)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Never called: rotation is the guarded UPDATE in create_token_response."""

    def create_token_response(self) -> tuple[int, dict, list]:
        old: RefreshToken = self.request.refresh_token
        user = self.authenticate_user(old)
        if user is None:
            raise InvalidGrantError("The user of this token is no longer active.")
        _consume(old, "rotated_at", "refresh_token")
        self.request.user = user
        token = self.issue_token(user, old)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """For a confidential client acting on its own behalf; no refresh token, no user."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS
    WRITES_ONE_ROW = True  # the access token

    def validate_token_request(self) -> None:
        super().validate_token_request()
        if not self.request.client.is_confidential:
            raise UnauthorizedClientError("client_credentials is for confidential clients.")

    def create_token_response(self) -> tuple[int, dict, list]:
        # Authlib's version logs the token dict at DEBUG; ours never logs a token.
        token = self.generate_token(scope=self.request.payload.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
