"""Access token formats, by name (``base`` says what a format is).

The token endpoint asks the adapter which format to issue and calls :func:`get`; the
resource side and introspection call :func:`recognise` to know how to read a value.
Refresh tokens, codes and secrets are always opaque.
"""

from __future__ import annotations

from .. import tokens
from .base import AccessTokenFormat
from .jwt import JWTFormat
from .opaque import OpaqueFormat

_formats: dict[str, AccessTokenFormat] = {}


def register(token_format: AccessTokenFormat) -> None:
    """Make ``token_format`` available under its name (replacing one of the same name)."""
    _formats[token_format.name] = token_format


def unregister(name: str) -> None:
    _formats.pop(name, None)


def get(name: str) -> AccessTokenFormat:
    """The format called ``name``; ``KeyError`` names the ones there are."""
    try:
        return _formats[name]
    except KeyError:
        raise KeyError(f"No access token format {name!r}; there are {sorted(_formats)}.") from None


def recognise(value: str) -> AccessTokenFormat | None:
    """The format whose shape ``value`` has, or None: it is nothing we issue."""
    for token_format in _formats.values():
        if token_format.recognises(value):
            return token_format
    return None


def new_refresh_token() -> str:
    return tokens.generate(tokens.REFRESH_TOKEN_PREFIX)


register(OpaqueFormat())
register(JWTFormat())

__all__ = ["AccessTokenFormat", "get", "new_refresh_token", "recognise", "register", "unregister"]
