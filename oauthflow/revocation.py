"""Revoking what was issued: the one path every revocation takes.

Whoever asks (the client at the revocation endpoint, the user on the authorized-apps
page, an admin action, a management command, refresh-token reuse detection), revocation
comes here, so every revocation is one UPDATE per table, sends ``token_revoked``, and is
seen by the next request. With the token cache on, one more query finds the access
tokens just revoked, and their cache entries are marked stale once the transaction
commits (``oauthflow.token_cache``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import signals, token_cache
from .models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken


def revoke_family(
    family: uuid.UUID, *, by: str, client: Client | None = None, user: Any = None
) -> int:
    """Revoke the code and every access and refresh token of one authorization.

    Returns how many rows were revoked.
    """
    return _revoke({"family": family}, by=by, client=client, user=user, family=family)


def revoke_access_token(token: AccessToken, *, by: str) -> int:
    """Revoke one access token; its refresh token and family live on (RFC 7009 §2.1)."""
    return _revoke(
        {"pk": token.pk},
        by=by,
        client=token.client,
        user=token.user,
        family=None,
        models=(AccessToken,),
    )


def revoke_client(client: Client, *, by: str) -> int:
    """Revoke everything ever issued to ``client`` (its consents stay: see ``revoke_grant``)."""
    return _revoke({"client": client}, by=by, client=client, user=None, family=None)


def revoke_grant(client: Client, user: Any, *, by: str) -> int:
    """A user withdraws a client's access: every token of the pair and the consent go."""
    with transaction.atomic():
        count = _revoke(
            {"client": client, "user": user}, by=by, client=client, user=user, family=None
        )
        Consent.objects.filter(client=client, user=user).delete()
    return count


def _revoke(
    filters: dict[str, Any],
    *,
    by: str,
    client,
    user,
    family,
    models: tuple[type, ...] = (AccessToken, RefreshToken, AuthorizationCode),
) -> int:
    now = timezone.now()
    with transaction.atomic():
        count = 0
        for model in models:
            count += model.objects.filter(**filters).revoke(now)
        # Selected after the UPDATE, by the timestamp it wrote: exactly the rows this
        # call revoked, even ones committed by others while it ran.
        token_cache.forget_on_commit(AccessToken.objects.filter(**filters, revoked_at=now))
    signals.send(
        signals.token_revoked, sender=AccessToken, client=client, user=user, family=family, by=by
    )
    return count
