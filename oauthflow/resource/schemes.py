"""The ways a request may present an access token, and the one that finds it.

A scheme reads its credentials from a request, checks anything it binds to the token
(a proof of possession, for DPoP), and writes its ``WWW-Authenticate`` challenge. Bearer
(RFC 6750, ``oauthflow.resource.rfc6750``) is the one scheme today; a scheme such as
DPoP registers itself with :func:`register` and every protected view accepts it, each
refusal then carrying one challenge per scheme (RFC 9449 §7.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest

from ..store.validity import Refusal


class Scheme:
    """One authentication scheme for access tokens."""

    name: ClassVar[str]

    def credentials(self, request: HttpRequest) -> str | None:
        """The access token the request presents in this scheme, or None.

        Raises a ``TokenError`` (``oauthflow.resource.errors``) for one presented wrongly.
        """
        raise NotImplementedError

    def check(self, request: HttpRequest, token: Any) -> Refusal | None:
        """Anything this scheme requires of a valid ``token`` beyond its validity."""
        return None

    def challenge(
        self,
        *,
        error: str | None = None,
        description: str | None = None,
        scopes: Iterable[str] = (),
    ) -> str:
        """This scheme's ``WWW-Authenticate`` challenge."""
        raise NotImplementedError


_schemes: list[Scheme] = []


def register(scheme: Scheme) -> None:
    """Accept ``scheme`` on every protected view (replacing one of the same name)."""
    unregister(scheme.name)
    _schemes.append(scheme)


def unregister(name: str) -> None:
    _schemes[:] = [s for s in _schemes if s.name.lower() != name.lower()]


def accepted() -> list[Scheme]:
    """The schemes protected views accept, in the order their challenges are sent."""
    return list(_schemes)
