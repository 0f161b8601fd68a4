"""PKCE (RFC 7636) held to RFC 9700 §2.1.1: S256 only, required of every client by default."""

from __future__ import annotations

import hmac
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN

from ...models import AuthorizationCode, Client
from ...settings import oauthflow_settings


class PKCE(CodeChallenge):
    """Authlib's extension with only S256, and stricter.

    Authlib's accepts ``plain`` and lets a missing challenge through at the authorization
    endpoint; this one does not. At the token endpoint every failure, missing or wrong
    verifier, is ``invalid_grant`` so a probe learns nothing about which it was.
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
