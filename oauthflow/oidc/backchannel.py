"""Back-Channel Logout 1.0: when a user's session here ends, tell the relying parties
that signed in through it.

Whatever ends the session (the end_session endpoint, the site's own logout view, an
admin's logout), Django sends ``user_logged_out`` while the session still holds its
OpenID session id (``sid``). :func:`on_logout` then finds the sign-ins of that session
(``Authentication`` rows), revokes the tokens issued from them
(``LOGOUT_REVOKES_TOKENS``), and, once the transaction commits, POSTs a logout token to
each client with a ``backchannel_logout_uri``. The requests run in parallel and the
caller waits at most ``BACKCHANNEL_LOGOUT_TIMEOUT`` seconds, so a slow client cannot
stall the logout; a failure is logged (client and reason, never the token) and never
reaches the user.
"""

from __future__ import annotations

import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.db import router, transaction
from django.http import HttpRequest

from ..models import Authentication, Client
from ..settings import oauthflow_settings
from ..store.revocation import revoke_family
from .authentication import SESSION_SID
from .id_token import sign

logger = logging.getLogger("oauthflow.oidc.logout")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: How long a logout token is valid: it is used at once (§2.4 suggests minutes).
LOGOUT_TOKEN_LIFETIME = 120
#: Most clients told in parallel.
MAX_WORKERS = 8


def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_out``: end the OpenID sign-ins of this browser session.

    Django sends the signal before it ends the session, so nothing here may stop the
    logout: a failure is logged and the user is signed out all the same."""
    try:
        _end_sign_ins(request, user)
    except Exception:
        logger.exception("Back-channel logout failed; the user is signed out all the same.")


def _end_sign_ins(request: HttpRequest | None, user: Any) -> None:
    session = getattr(request, "session", None)
    sid = session.get(SESSION_SID) if session is not None else None
    if user is None or not isinstance(sid, str) or request is None:
        return
    ended = list(Authentication.objects.filter(user=user, sid=sid).select_related("client", "user"))
    if not ended:
        return
    if oauthflow_settings.LOGOUT_REVOKES_TOKENS:
        with transaction.atomic(using=router.db_for_write(Authentication)):
            for record in ended:
                revoke_family(record.family, by="logout", client=record.client, user=user)
    issuer = _issuer(request)
    # One token per client: a client signed in twice in one session hears once.
    per_client = {r.client_id: r for r in ended if r.client.backchannel_logout_uri}
    messages = [
        (r.client, logout_token(r, issuer)) for r in per_client.values() if r.client.is_active
    ]
    if messages:
        transaction.on_commit(
            lambda: send(messages), using=router.db_for_write(Authentication), robust=True
        )


def _issuer(request: HttpRequest) -> str:
    from ..server.authorization_server import get_server

    return get_server().issuer(request)


def logout_token(record: Authentication, issuer: str) -> str:
    """A logout token (§2.4) for the client of ``record``, signed like its ID tokens."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": record.sub,
        "aud": record.client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "events": {EVENT: {}},
        "sid": record.sid,
    }
    return sign(claims, record.client.id_token_signed_response_alg, typ="logout+jwt")


#: One pool for the process, so clients that never answer tie up at most MAX_WORKERS
#: threads, however many logouts there are.
_pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="oauthflow-logout")


def send(messages: list[tuple[Client, str]]) -> None:
    """POST each logout token; return after at most BACKCHANNEL_LOGOUT_TIMEOUT seconds.
    The stragglers go on in the pool until their own socket timeout; nobody waits."""
    timeout = oauthflow_settings.BACKCHANNEL_LOGOUT_TIMEOUT
    futures = {_pool.submit(_post, client, token, timeout): client for client, token in messages}
    _done, pending = wait(futures, timeout=timeout)
    for future in pending:
        logger.warning(
            "Back-channel logout to client %s: no answer within %s s.",
            futures[future].client_id,
            timeout,
        )


class _NoRedirects(HTTPRedirectHandler):
    """A logout token goes to the registered URI only, never where a redirect points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = build_opener(_NoRedirects)


def _post(client: Client, token: str, timeout: float) -> None:
    uri = client.backchannel_logout_uri
    if not uri.lower().startswith(("https://", "http://")):
        return  # refused at registration; never another scheme (file:, ftp:)
    request = Request(  # noqa: S310 (the scheme is checked above)
        uri,
        data=urlencode({"logout_token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except HTTPError as exc:
        status = exc.code
    except (URLError, OSError, ValueError) as exc:
        logger.warning(
            "Back-channel logout to client %s failed: %s.", client.client_id, type(exc).__name__
        )
        return
    if not 200 <= status < 300:  # the spec says 200; some frameworks answer 204
        logger.warning("Back-channel logout to client %s answered %s.", client.client_id, status)
