"""Signals a site can connect to, e.g. to audit or alert.

Every signal is sent after the work it reports is committed (``transaction.on_commit``:
at once when no transaction is open, never when the work is rolled back), with
``sender`` = the model class the event is about and keyword arguments as listed. No
argument ever carries a token, code or secret value. A receiver that raises is logged
(logger ``oauthflow.signals``) and does not change the HTTP answer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import router, transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

#: The user allowed a client (sender: Consent). kwargs: request, client, user, scope.
authorization_granted = Signal()
#: The user denied a client (sender: Consent). kwargs: request, client, user, scope.
authorization_denied = Signal()
#: Tokens were issued (sender: AccessToken). kwargs: request, client, user (None for
#: client_credentials), grant_type, scope, access_token (the AccessToken row),
#: refresh_token (the RefreshToken row or None).
token_issued = Signal()
#: A refresh token that was already rotated, or a redeemed authorization code, was
#: presented again, or two requests raced to use one; the whole family was revoked
#: (sender: RefreshToken or AuthorizationCode, the model of the reused credential).
#: kwargs: request, client, user, family, credential ("refresh_token" or
#: "authorization_code").
token_reuse_detected = Signal()
#: A token or a whole authorization was revoked (sender: AccessToken). kwargs: client,
#: user, family, by ("client", "user", "admin", "command", "reuse-detection",
#: "password-change" or "refresh-retry").
token_revoked = Signal()


def send(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` once the transaction open on ``sender``'s database commits.

    A receiver then sees the committed state, and an event whose transaction rolls back
    is never announced. A failing receiver is logged, never turned into a 500 for a
    request whose code was already redeemed or whose tokens were already issued.
    """
    using = router.db_for_write(sender)
    transaction.on_commit(lambda: _send_now(signal, sender, kwargs), using=using)


def _send_now(signal: Signal, sender: Any, kwargs: dict[str, Any]) -> None:
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            # The exception only; kwargs may hold rows whose repr a site customised.
            logger.error("oauthflow signal receiver %r failed", receiver, exc_info=result)
