"""Site policy, in one class a site can subclass.

The protocol code asks the adapter whenever the answer is the site's to give: who the
subject of a token is, what may be said about a user, when the consent page may be
skipped, which format an access token takes. Name a subclass in
``OAUTHFLOW["ADAPTER"]`` and override only what differs::

    # myproject/oauth.py
    from oauthflow.adapter import DefaultAdapter

    class Adapter(DefaultAdapter):
        def get_subject(self, user):
            return str(user.profile.public_id)  # never reveal the primary key

    # settings.py
    OAUTHFLOW = {"ADAPTER": "myproject.oauth.Adapter"}

Each hook is small and documented with what the default does and why. The adapter holds
no state: one instance serves every request, in every thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .settings import oauthflow_settings

if TYPE_CHECKING:
    from .models import Client, Consent, Resource


class DefaultAdapter:
    """What oauthflow does when the site says nothing."""

    def get_subject(self, user: Any) -> str:
        """The subject identifier (``sub``) of ``user``: introspection reports it, and
        OpenID Connect's ID tokens and UserInfo carry it for clients with public subjects.

        The default is a random value stored for the user on first use
        (``oauthflow.subjects``): stable, kept by a database restore, and it does not
        reveal the primary key (a sequential id tells how many users there are). Override
        it with a value just as stable, never reassigned: clients key their accounts on it.
        """
        from .subjects import public_subject

        return public_subject(user)

    def get_user_claims(self, user: Any, scopes: Iterable[str]) -> dict[str, Any]:
        """Claims about ``user`` a client granted ``scopes`` may learn (OpenID Connect Core
        §5.4): ID tokens and the UserInfo endpoint carry them.

        The default reads Django's user model: ``profile`` gives ``name``, ``given_name``,
        ``family_name`` and ``preferred_username``; ``email`` gives ``email``, and
        ``email_verified`` only when :meth:`is_email_verified` says so. Empty values are
        left out. ``address`` and ``phone`` give nothing, as Django's user has neither:
        add them here. Plain OAuth scopes release nothing. Add a claim with a line::

            def get_user_claims(self, user, scopes):
                claims = super().get_user_claims(user, scopes)
                if "phone" in scopes:
                    claims["phone_number"] = user.profile.phone
                return claims
        """
        scopes = set(scopes)
        claims: dict[str, Any] = {}
        if "profile" in scopes:
            full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
            claims["name"] = full_name
            claims["given_name"] = getattr(user, "first_name", "")
            claims["family_name"] = getattr(user, "last_name", "")
            claims["preferred_username"] = user.get_username()
        if "email" in scopes:
            email = getattr(user, "email", "")
            claims["email"] = email
            verified = self.is_email_verified(user) if email else None
            if verified is not None:
                claims["email_verified"] = verified
        return {name: value for name, value in claims.items() if value not in ("", None)}

    def is_email_verified(self, user: Any) -> bool | None:
        """Whether the site checked that ``user`` controls their address; None (the
        default) when it does not know, and then ``email_verified`` is left out: Django
        does not check addresses, and a relying party may trust a ``true``."""
        return None

    def get_authentication_context(self, request: HttpRequest, user: Any) -> dict[str, Any]:
        """How ``user`` signed in, for ID tokens: ``{"acr": "...", "amr": ["pwd", "otp"]}``
        (RFC 8176 values), or ``{}`` (the default) when the site does not say."""
        return {}

    def may_skip_consent(
        self,
        request: HttpRequest,
        *,
        client: Client,
        user: Any,
        scope: str,
        consent: Consent | None,
        prompt: set[str],
        redirect_uri: str,
    ) -> bool:
        """Whether ``user`` may be sent back to ``client`` with a code without being asked.

        ``consent`` is what the user allowed this client before (None if never); ``prompt``
        the request's ``prompt`` values. By default the page is always shown for
        ``prompt=consent``, and to a native app (a public client redirecting to a loopback
        or private-use URI): any program on the device can listen on a loopback port or
        claim a URI scheme, so neither an administrator's ``skip_consent`` nor an earlier
        consent vouches for it (RFC 8252 §8.6). Otherwise a client marked ``skip_consent``
        never asks, and a remembered consent covering ``scope`` is enough. An https
        redirect URI vouches for a public web app.
        """
        if "consent" in prompt or client.is_native_redirect(redirect_uri):
            return False
        if client.skip_consent:
            return True
        return consent is not None and consent.covers(scope)

    def get_client_address(self, request: HttpRequest) -> str:
        """The address of the browser making ``request``, for limits per address (the
        device flow's wrong user codes). ``REMOTE_ADDR`` by default: behind a proxy,
        return the address your proxy vouches for (its ``X-Forwarded-For`` entry), never
        a header the browser could write."""
        return str(request.META.get("REMOTE_ADDR") or "")

    def get_access_token_format(
        self,
        *,
        client: Client,
        user: Any,
        scope: str,
        grant_type: str,
        resources: Sequence[Resource] = (),
    ) -> str:
        """The name of the format of an access token about to be issued (``oauthflow.formats``).

        ``resources`` are those the token is for (RFC 8707; they share one format). The
        default: their ``token_format`` (``"jwt"`` for RFC 9068 tokens an API verifies
        alone), else ``"opaque"``, a random value whose meaning lives in the database.
        Override to choose per client, e.g. ``"jwt"`` for every token of one client.
        """
        return resources[0].token_format if resources else "opaque"


_adapter: DefaultAdapter | None = None


def get_adapter() -> DefaultAdapter:
    """The site's adapter: an instance of the class ``OAUTHFLOW["ADAPTER"]`` names."""
    global _adapter
    if _adapter is None:
        _adapter = import_string(oauthflow_settings.ADAPTER)()
    return _adapter


def _forget_adapter(*, setting: str, **kwargs: Any) -> None:
    global _adapter
    if setting == "OAUTHFLOW":
        _adapter = None


setting_changed.connect(_forget_adapter)
