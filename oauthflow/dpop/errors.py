"""The errors of RFC 9449 at the token endpoint (§5, §8)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error


class InvalidDPoPProofError(OAuth2Error):
    """The DPoP proof is missing where required, malformed, or does not verify."""

    error = "invalid_dpop_proof"


class UseDPoPNonceError(OAuth2Error):
    """The proof needs a fresh server nonce: retry with the one in ``DPoP-Nonce``."""

    error = "use_dpop_nonce"

    def __init__(self, nonce: str, description: str = "Use the nonce in DPoP-Nonce.") -> None:
        super().__init__(description=description)
        self.nonce = nonce

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[Any] = list(super().get_headers())
        return [*headers, ("DPoP-Nonce", self.nonce)]
