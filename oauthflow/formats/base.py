"""What an access token format is: how a value is made, and how it is recognised and read.

Every access token gets a row in the store (its digest, client, user, scope, expiry), so
revocation and introspection work the same whatever the format. The format decides the
value the client receives:

* a *stored* format (``opaque``) is a random value that means nothing by itself: the
  resource side looks its digest up in the store (through the token cache when on);
* a *self-contained* format (JWT access tokens, to come) carries what it grants, signed:
  the resource side verifies it with :meth:`AccessTokenFormat.verify`, with no database.

Formats register by name in ``oauthflow.formats``; the adapter's
``get_access_token_format`` picks one per token.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class GrantedToken:
    """An access token as the resource side sees it, whatever its format: what it grants
    (``scope``), for whom (``user``, None when the client acts for itself) and to which
    ``client``. The stored format's ``AccessToken`` rows are GrantedTokens; a
    self-contained format's ``verify`` returns one of its own."""

    scope: str
    user: Any

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes, as a set for ``<=`` tests."""
        return frozenset(self.scope.split())

    def has_scopes(self, required: Iterable[str]) -> bool:
        """Whether every scope in ``required`` was granted (an empty list: always)."""
        return set(required) <= self.scopes

    @property
    def is_client_credentials(self) -> bool:
        """True when the token acts for the client itself, not for a user
        (client_credentials grant): resource servers see an anonymous user."""
        return self.user is None


class AccessTokenFormat:
    """One way of writing access tokens. Subclass it, set ``name``, register an instance."""

    name: ClassVar[str]
    #: Whether :meth:`verify` can judge a value alone, with no database.
    self_contained: ClassVar[bool] = False

    def generate(
        self, *, client: Any, user: Any, scope: str, expires_in: int, **context: Any
    ) -> str:
        """A new access token value for ``client`` and ``user``, valid ``expires_in`` s.

        A self-contained format also gets ``context``: ``issuer``, ``audience`` (the
        resource identifiers), ``subject``, and what capabilities add (``auth_time``,
        ``acr``)."""
        raise NotImplementedError

    def recognises(self, value: str) -> bool:
        """Whether ``value`` has this format's shape: a cheap test, no cryptography, no
        database. A value no format recognises is refused as malformed."""
        raise NotImplementedError

    def verify(self, value: str) -> Any:
        """For a self-contained format: the :class:`GrantedToken` ``value`` carries, or a
        ``oauthflow.store.validity.Refusal``.

        It is the format's whole judgement: signature, expiry and whatever else the value
        carries. What only the store knows (a revocation, a client or user disabled since
        the token was issued) it cannot see; that is the price of checking with no
        database, and why such tokens live briefly. Introspection reads the row and does
        see it."""
        raise NotImplementedError(f"The {self.name} format is read from the store.")
