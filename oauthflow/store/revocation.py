"""Revoking what was issued: the one path every revocation takes.

Whoever asks (the client at the revocation endpoint, the user on the authorized-apps
page, an admin action, a management command, refresh-token reuse detection), revocation
comes here, so every revocation is one UPDATE per table, sends ``token_revoked`` once it
is committed, and is seen by the next request.

Caches of access tokens (``oauthflow.resource.cache``) learn of it through
:data:`access_tokens_invalidated`, sent inside the transaction with a queryset that
selects the access tokens just made invalid: the store knows nothing of its readers.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import router, transaction
from django.dispatch import Signal
from django.utils import timezone

from .. import signals
from ..models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken

#: Sent inside the transaction that makes access tokens invalid (sender: AccessToken;
#: kwargs: ``tokens``, a queryset that still selects them after the change). For caches
#: of token lookups; sites connect to ``oauthflow.signals.token_revoked`` instead.
access_tokens_invalidated = Signal()

#: The credential that starts an authorization comes first: a concurrent exchange holds
#: its row locked until it commits, so the UPDATEs of the token tables that follow run
#: after that commit and see the tokens it issued (READ COMMITTED).
ISSUED_MODELS: tuple[type[Any], ...] = (AuthorizationCode, AccessToken, RefreshToken)
#: Credentials capabilities add (the device flow's requests), revoked with the rest.
_added_models: list[type[Any]] = []


def register_issued_model(model: type[Any]) -> None:
    """Revoke ``model``'s rows (an ``IssuedCredential`` that starts an authorization, as a
    code does) with the codes and tokens of a client, a user, or both. Not by family: a
    family revoked after its tokens exist has used its starting credential up, so that
    costs no extra UPDATE (the admin revokes an unused one by its rows)."""
    if model not in _added_models:
        _added_models.append(model)


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


def revoke_rows(model: type[Any], pks: list[Any], *, by: str) -> int:
    """Revoke these rows of one credential model (the DOT import's clean-up of what DOT
    itself no longer honours); families and consents are left alone."""
    if not pks:
        return 0
    return _revoke({"pk__in": pks}, by=by, client=None, user=None, family=None, models=(model,))


def revoke_client(client: Client, *, by: str) -> int:
    """Revoke everything ever issued to ``client`` (its consents stay: see ``revoke_grant``)."""
    return _revoke({"client": client}, by=by, client=client, user=None, family=None)


def revoke_user(user: Any, *, by: str) -> int:
    """Revoke every code and token issued for ``user``, by any client."""
    return _revoke({"user": user}, by=by, client=None, user=user, family=None)


def supersede(refresh_token: RefreshToken, *, by: str) -> bool:
    """Use up a refresh token in its client's place and revoke the access token issued
    with it: a retried refresh replaces the pair its lost response carried.

    The refresh token is marked rotated, not revoked, so that presenting it later is reuse
    (a thief who retried first is caught when the client uses the pair it did receive).
    Conditional, so of concurrent retries one wins (True); the others find it used or
    revoked (False).
    """
    now = timezone.now()
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        won = RefreshToken.objects.filter(
            pk=refresh_token.pk, revoked_at__isnull=True, rotated_at__isnull=True
        ).update(rotated_at=now, superseded_at=now)
        if won != 1:
            return False
        # Issued in the same statement batch, with the same timestamp (store.issue).
        filters = {"family": refresh_token.family, "created_at": refresh_token.created_at}
        AccessToken.objects.filter(**filters).revoke(now)
        invalidated = AccessToken.objects.filter(**filters, revoked_at=now)
        access_tokens_invalidated.send(sender=AccessToken, tokens=invalidated)
        signals.send(
            signals.token_revoked,
            sender=AccessToken,
            client=refresh_token.client,
            user=refresh_token.user,
            family=refresh_token.family,
            by=by,
        )
    return True


def revoke_grant(client: Client, user: Any, *, by: str) -> int:
    """A user withdraws a client's access: every token of the pair and the consent go."""
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        count = _revoke(
            {"client": client, "user": user}, by=by, client=client, user=user, family=None
        )
        Consent.objects.filter(client=client, user=user).delete()
    return count


def _revoke(
    filters: dict[str, Any],
    *,
    by: str,
    client: Client | None,
    user: Any,
    family: uuid.UUID | None,
    models: tuple[type[Any], ...] | None = None,
) -> int:
    now = timezone.now()
    if models is None:
        if "family" in filters:
            models = ISSUED_MODELS
        else:  # starting credentials first, as in ISSUED_MODELS
            models = (ISSUED_MODELS[0], *_added_models, *ISSUED_MODELS[1:])
    with transaction.atomic(using=router.db_for_write(AccessToken)):
        count = 0
        for model in models:
            count += model.objects.filter(**filters).revoke(now)
        # Selected after the UPDATE, by the timestamp it wrote: exactly the rows this
        # call revoked, even ones committed by others while it ran.
        if AccessToken in models:
            invalidated = AccessToken.objects.filter(**filters, revoked_at=now)
            access_tokens_invalidated.send(sender=AccessToken, tokens=invalidated)
        signals.send(
            signals.token_revoked,
            sender=AccessToken,
            client=client,
            user=user,
            family=family,
            by=by,
        )
    return count
