"""What oauthflow asks of a grant besides Authlib's interface.

A grant is an Authlib grant class with :class:`GrantMixin` mixed in, registered with
``oauthflow.server.registry``. The registry then derives everything else from it: the
token endpoint dispatches to it, the metadata document lists it, ``Client.clean()``
applies its rules to clients that name it, the admin and ``oauthflow_client`` offer it.

Keep Authlib's hooks running: a grant that overrides ``validate_token_request`` or
``create_token_response`` calls the parent's (already hooked) method, or decorates its
own with ``authlib.oauth2.rfc6749.hooks.hooked``. Extensions such as OpenID Connect add
to the token response through the ``after_create_token_response`` hook, and a method that
replaces a hooked one without the decorator silently drops them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidGrantError
from django.utils.translation import gettext

from ... import tokens
from ...store.consume import Outcome, consume
from ...store.validity import Refusal, refusal
from ..errors import ReuseDetected

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from ...models import Client
    from ...store.lookups import RowLookup
    from ..registry import Registry

#: Client authentication at the token endpoint, in the order metadata lists them.
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class GrantMixin:
    """Class attributes a grant sets; the defaults suit a grant that needs nothing special."""

    GRANT_TYPE: ClassVar[str]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = CLIENT_AUTH_METHODS
    #: The token request writes a single row, so it needs no transaction around it
    #: (one round trip fewer). Leave False when in doubt: a transaction is always right.
    WRITES_ONE_ROW: ClassVar[bool] = False
    #: The token response may carry a refresh token (a client with refresh_token needs
    #: at least one such grant).
    ISSUES_REFRESH_TOKEN: ClassVar[bool] = False
    #: The authorization endpoint redirects to the client: it needs a redirect URI.
    NEEDS_REDIRECT_URI: ClassVar[bool] = False
    #: Why only confidential clients may use it, or None when public clients may too.
    CONFIDENTIAL_ONLY_BECAUSE: ClassVar[StrOrPromise | None] = None

    @classmethod
    def client_errors(cls, client: Client, registry: Registry) -> dict[str, list[str]]:
        """Problems with ``client``'s registration for this grant, by model field."""
        errors: dict[str, list[str]] = {}
        if cls.NEEDS_REDIRECT_URI and not client.redirect_uri_list:
            errors["redirect_uris"] = [
                gettext("The %(grant)s grant needs at least one redirect URI.")
                % {"grant": cls.GRANT_TYPE}
            ]
        if cls.CONFIDENTIAL_ONLY_BECAUSE and not client.is_confidential:
            errors["grant_types"] = [str(cls.CONFIDENTIAL_ONLY_BECAUSE)]
        return errors

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """Entries this grant adds to the metadata document (RFC 8414)."""
        return {}

    def authenticate_user(self, credential: Any) -> Any:
        """The user of a code or refresh token, or None when the validity rule refuses it
        (an inactive user, most often: the grant answers with that reason)."""
        return credential.user if refusal(credential) is None else None


def find_credential(
    lookup: RowLookup[Any],
    value: str,
    client: Client,
    kind: str,
    on_used: Callable[[Any], Any] | None = None,
) -> Any:
    """The code or refresh token ``value``, if ``client`` holds it and it may be used.

    None for an unknown, foreign, revoked or expired one (``invalid_grant``). A used one
    still within its evidence window raises :class:`ReuseDetected`, unless ``on_used``
    answers it with a credential to use instead. One whose user is inactive is returned:
    the grant refuses it with that reason once it is known to be this client's.
    """
    found = lookup.get(tokens.digest(value))
    if found is None or not found.check_client(client):
        return None
    found.client = client  # the same row, already loaded by client authentication
    reason = refusal(found)
    if reason is Refusal.USED:
        instead = on_used(found) if on_used is not None else None
        if instead is not None:
            return instead
        raise ReuseDetected(kind, found.family, client, found.user)
    if reason in (Refusal.REVOKED, Refusal.EXPIRED):
        return None
    return found


def use_once(credential: Any, kind: str) -> None:
    """Use up a code or refresh token inside the token transaction, or raise the answer.

    Revoked meanwhile: plain ``invalid_grant``. Used by a concurrent request: reuse, and
    the server revokes the family once this request's transaction has rolled back.
    """
    outcome = consume(credential)
    if outcome is Outcome.REVOKED:
        raise InvalidGrantError("This grant was revoked.")
    if outcome is Outcome.ALREADY_USED:
        raise ReuseDetected(kind, credential.family, credential.client, credential.user)
