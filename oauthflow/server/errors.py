"""OAuth errors of our own, answered with fixed text: hostile input never reaches a response.

Authlib's own versions of the last two echo the request's response_type or grant_type
into ``error_description``.
"""

from __future__ import annotations

import uuid
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidGrantError

from ..models import Client


class ReuseDetected(InvalidGrantError):
    """A used code or rotated refresh token came back: the authorization is compromised.

    Raised inside the token transaction; the server revokes ``family`` after the rollback.
    """

    def __init__(self, credential: str, family: uuid.UUID, client: Client, user: Any):
        super().__init__(description=f"This {credential.replace('_', ' ')} was already used.")
        self.credential = credential
        self.family = family
        self.client = client
        self.user = user


class UnsupportedResponseTypeError(OAuth2Error):
    error = "unsupported_response_type"
    description = "Only response_type=code is supported."


class UnsupportedGrantTypeError(OAuth2Error):
    error = "unsupported_grant_type"

    def __init__(self, supported: list[str]) -> None:
        super().__init__(description=f"Supported grant types: {', '.join(supported)}.")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, unknown, or not for this client."""

    error = "invalid_target"
    status_code = 400
