"""The answers a protected resource gives (RFC 6750 §3), whatever the scheme.

Each error knows its HTTP status and error code; its ``WWW-Authenticate`` value holds
one challenge per accepted scheme (today Bearer alone).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import schemes

INVALID_REQUEST = "invalid_request"
INVALID_TOKEN = "invalid_token"
INSUFFICIENT_SCOPE = "insufficient_scope"


class TokenError(Exception):
    """An RFC 6750 §3 answer: an HTTP status, an error code, and the challenges to send.

    ``scheme`` names the one scheme the error is about (DPoP's own errors): only its
    challenge carries it, the others go bare (RFC 9449 §7.2). ``headers`` are more
    response headers (``DPoP-Nonce``).
    """

    status_code = 401
    error: str | None = None
    scheme: str | None = None

    def __init__(
        self,
        description: str,
        *,
        scopes: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.scopes = list(scopes)
        self.headers = dict(headers or {})

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value for this answer."""
        return challenge(
            error=self.error,
            description=self.description if self.error else None,
            scopes=self.scopes,
            only=self.scheme,
        )

    def as_dict(self) -> dict[str, str]:
        """A JSON body for plain Django views."""
        return {
            "error": self.error or "missing_authorization",
            "error_description": self.description,
        }


class MissingToken(TokenError):
    """No credentials: 401 with bare challenges (§3.1: no error code)."""

    def __init__(self, description: str = "An access token is required.") -> None:
        super().__init__(description)


class InvalidRequest(TokenError):
    """The token came in more than one way, or twice: 400 (§3.1)."""

    status_code = 400
    error = INVALID_REQUEST


class InvalidToken(TokenError):
    """Unknown, expired, revoked or malformed token, or one of an inactive client or user."""

    error = INVALID_TOKEN


class SchemeError(TokenError):
    """An error of one scheme's own (RFC 9449 §7.1: ``invalid_dpop_proof``,
    ``use_dpop_nonce``): 401, in that scheme's challenge only."""

    def __init__(
        self, scheme: str, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description, headers=headers)
        self.scheme = scheme
        self.error = error


class InsufficientScope(TokenError):
    """A valid token without every scope the resource requires: 403 naming them."""

    status_code = 403
    error = INSUFFICIENT_SCOPE

    def __init__(self, scopes: Iterable[str], description: str | None = None) -> None:
        super().__init__(description or "The access token lacks a required scope.", scopes=scopes)


def challenge(
    *,
    error: str | None = None,
    description: str | None = None,
    scopes: Iterable[str] = (),
    only: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value: every accepted scheme's challenge, comma-separated;
    with ``only``, the error goes in that scheme's challenge alone."""
    scopes = list(scopes)
    parts = []
    for scheme in schemes.accepted():
        if only is None or scheme.name.lower() == only.lower():
            parts.append(scheme.challenge(error=error, description=description, scopes=scopes))
        else:
            parts.append(scheme.challenge(scopes=scopes))
    return ", ".join(parts)
