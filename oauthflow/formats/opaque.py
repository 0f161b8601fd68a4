"""Opaque access tokens: 256 random bits behind a type prefix, meaningful only to the store."""

from __future__ import annotations

from typing import Any

from .. import tokens
from .base import AccessTokenFormat


class OpaqueFormat(AccessTokenFormat):
    """``ofat_<43 url-safe characters>`` (``oauthflow.tokens``): nothing to decode, nothing
    to leak; a lookup by digest tells what it grants and whether it is still valid."""

    name = "opaque"

    def generate(
        self, *, client: Any, user: Any, scope: str, expires_in: int, **context: Any
    ) -> str:
        return tokens.generate(tokens.ACCESS_TOKEN_PREFIX)

    def recognises(self, value: str) -> bool:
        return tokens.is_plausible(value)
