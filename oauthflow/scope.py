"""Scope strings (RFC 6749 §3.3): parsing, validation and the words users see."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .settings import oauthflow_settings

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def is_valid_scope_token(value: str) -> bool:
    return bool(_SCOPE_TOKEN.fullmatch(value))


def scope_to_list(scope: str | None) -> list[str]:
    """Split a space-delimited scope string, keeping first-seen order and dropping repeats."""
    if not scope:
        return []
    return list(dict.fromkeys(scope.split()))


def list_to_scope(scopes: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(scopes))


#: Scopes a capability brings (OpenID Connect's ``openid``, ``profile``...), with their
#: descriptions; ``OAUTHFLOW['SCOPES']`` may reword them.
_capability_scopes: dict[str, Any] = {}


def add_scopes(scopes: dict[str, Any]) -> None:
    """Make ``scopes`` known (from a capability's ``AppConfig.ready()``)."""
    _capability_scopes.update(scopes)


def known_scopes() -> dict[str, Any]:
    """The server's scopes and their descriptions: ``OAUTHFLOW['SCOPES']``, and those a
    capability added (the setting's words win)."""
    configured = oauthflow_settings.SCOPES
    if not _capability_scopes:
        return configured
    return {**configured, **{k: v for k, v in _capability_scopes.items() if k not in configured}}


def describe(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """(scope, description) pairs for display on the consent and authorized-apps pages."""
    descriptions = known_scopes()
    return [(s, descriptions.get(s, s)) for s in scopes]
