"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.hooks import hooked
from django.db import router
from django.utils import timezone
from django.utils.translation import gettext

from ...models import Client, GrantType, RefreshToken
from ...scope import list_to_scope, scope_to_list
from ...settings import oauthflow_settings
from ...store import lookups
from ...store.revocation import supersede
from ..errors import ReuseDetected
from ..registry import Registry
from .base import GrantMixin, find_credential, use_once


class RefreshTokenGrant(GrantMixin, grants.RefreshTokenGrant):
    """Every use issues a new refresh token and retires the old one; presenting a retired
    one again revokes the whole authorization."""

    GRANT_TYPE = str(GrantType.REFRESH_TOKEN)
    INCLUDE_NEW_REFRESH_TOKEN = True
    ISSUES_REFRESH_TOKEN = True

    @classmethod
    def client_errors(cls, client: Client, registry: Registry) -> dict[str, list[str]]:
        errors = super().client_errors(client, registry)
        issuers = [
            name
            for name, grant in registry.grant_classes().items()
            if grant.ISSUES_REFRESH_TOKEN and name != cls.GRANT_TYPE
        ]
        if not set(issuers) & set(client.grant_type_list):
            errors.setdefault("grant_types", []).append(
                gettext("refresh_token is only issued with %(grants)s.")
                % {"grants": " or ".join(issuers)}
            )
        return errors

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        # A rotated token is reuse evidence for as long as its family may live, even after
        # its own idle expiry (a thief may have rotated first); after that, just invalid.
        found: RefreshToken | None = find_credential(
            lookups.refresh_token_for_grant,
            refresh_token,
            self.request.client,
            "refresh_token",
            on_used=self._retried,
        )
        if found is None:
            # Authlib's own answer has no description at all.
            raise InvalidGrantError("The refresh token is unknown, expired or revoked.")
        return found

    def _retried(self, used: RefreshToken) -> RefreshToken | None:
        """The pair a lost response carried, when ``used`` comes back within
        ``REFRESH_TOKEN_REUSE_GRACE``: its refresh token is then used in ``used``'s place,
        and superseded rather than rotated. None (reuse) otherwise, or once the client has
        moved on (the successor was used or revoked: only one retry)."""
        grace = oauthflow_settings.REFRESH_TOKEN_REUSE_GRACE
        if not grace or used.rotated_at is None or used.superseded_at is not None:
            return None  # a superseded token gets no retry: presenting it is reuse
        if timezone.now() - used.rotated_at > timedelta(seconds=grace):
            return None
        # From the primary: a replica may not have the rotation yet.
        successors = RefreshToken.objects.using(router.db_for_write(RefreshToken))
        successor = successors.select_related("user").filter(rotated_from=used).first()
        if successor is None or successor.rotated_at or successor.revoked_at:
            return None
        successor.client = used.client
        self.request.superseding = successor
        return successor

    def _retried_after_race(self, presented: RefreshToken) -> RefreshToken:
        fresh = (
            RefreshToken.objects.using(router.db_for_write(RefreshToken))
            .select_related("user")
            .get(pk=presented.pk)
        )
        fresh.client = presented.client
        successor = self._retried(fresh)
        if successor is None:
            raise ReuseDetected("refresh_token", fresh.family, fresh.client, fresh.user)
        return successor

    def _supersede(self, successor: RefreshToken) -> None:
        if not supersede(successor, by="refresh-retry"):
            raise InvalidGrantError("This grant was revoked.")

    def _validate_token_scope(self, token: RefreshToken) -> None:
        requested = scope_to_list(self.request.payload.scope)
        if not set(requested) <= set(token.scope_list):
            raise InvalidScopeError("The scope is wider than the original grant.")

    def issue_token(self, user: Any, refresh_token: RefreshToken) -> dict[str, Any]:
        # A blank or absent scope means the original grant (RFC 6749 §6), never the
        # client's default scopes; a narrower one narrows only the access token.
        scope = list_to_scope(scope_to_list(self.request.payload.scope)) or refresh_token.scope
        return self.generate_token(user=user, scope=scope, include_refresh_token=True)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Never called: rotation is the guarded UPDATE in create_token_response."""

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        old: RefreshToken = self.request.refresh_token
        user = self.authenticate_user(old)
        if user is None:
            raise InvalidGrantError("The user of this token is no longer active.")
        if getattr(self.request, "superseding", None) is old:
            self._supersede(old)
        else:
            try:
                use_once(old, "refresh_token")
            except ReuseDetected:
                if not oauthflow_settings.REFRESH_TOKEN_REUSE_GRACE:
                    raise
                # Used while this request ran: the original of a retry, still in flight
                # when this one looked it up. Look again, now that it has committed.
                old = self._retried_after_race(old)
                self._supersede(old)
        self.request.user = user
        self.request.consumed = old
        token = self.issue_token(user, old)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
