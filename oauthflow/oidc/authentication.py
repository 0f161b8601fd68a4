"""The OpenID Connect side of an authorization request, and the record of how the user
signed in (Core §3.1.2).

:func:`check_request` runs at the authorization endpoint once the client, the redirect
URI and the user are known (a registry authorization check): it refuses malformed
OpenID Connect parameters with ``invalid_request`` and asks for a new sign-in when
``max_age`` has passed, ``prompt=select_account`` is sent, or ``id_token_hint`` names
someone else. :func:`record` runs as the code is stored (a grant hook) and keeps an
``Authentication`` row for the authorization: what the ID tokens issued from it say.

The sign-in time (``auth_time``) is stamped in the session when the user signs in
(``user_logged_in``); a session from before has the user's ``last_login`` instead.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from ..adapter import get_adapter
from ..models import Authentication, AuthorizationCode
from ..prompt import SignInAgain
from ..scope import scope_to_list
from ..settings import oauthflow_settings
from . import id_token_hint
from .claims import parse_claims_parameter
from .subject import subject_for

#: Session keys: the OpenID session id (``sid``) and when the user signed in.
SESSION_SID = "oauthflow_sid"
SESSION_AUTH_TIME = "oauthflow_auth_time"
#: Longest nonce kept; real ones are a few dozen characters.
MAX_NONCE = 512


def stamp_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: a sign-in starts a new OpenID session, now."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_AUTH_TIME] = int(time.time())
        session[SESSION_SID] = secrets.token_urlsafe(24)


def auth_time(request: HttpRequest, user: Any) -> int | None:
    stamped = request.session.get(SESSION_AUTH_TIME) if hasattr(request, "session") else None
    if isinstance(stamped, int):
        return stamped
    last_login = getattr(user, "last_login", None)
    return int(last_login.timestamp()) if last_login else None


def session_id(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    if session is None:
        return ""
    sid = session.get(SESSION_SID)
    if not isinstance(sid, str):
        sid = session[SESSION_SID] = secrets.token_urlsafe(24)
    return sid


def is_openid(grant: Any) -> bool:
    return "openid" in scope_to_list(grant.request.scope or grant.request.payload.scope)


def check_request(request: HttpRequest, grant: Any, user: Any) -> None:
    """The OpenID Connect parameters of an authorization request (see the module)."""
    if not is_openid(grant):
        return
    data = grant.request.payload.data
    if not data.get("redirect_uri"):
        raise InvalidRequestError("OpenID Connect requests must send redirect_uri.")
    if len(data.get("nonce", "")) > MAX_NONCE:
        raise InvalidRequestError("The nonce is too long.")
    parse_claims_parameter(data.get("claims"))
    use_ui_locales(data.get("ui_locales", ""))
    max_age = data.get("max_age")
    if max_age is not None:
        if not (max_age.isascii() and max_age.isdigit()) or len(max_age) > 10:
            raise InvalidRequestError("max_age must be a number of seconds.")
        signed_in = auth_time(request, user)
        if signed_in is None or time.time() - signed_in > int(max_age):
            raise SignInAgain("The sign-in is older than max_age allows.")
    if "select_account" in data.get("prompt", "").split():
        raise SignInAgain("The client asked the user to choose an account.")
    hint = data.get("id_token_hint")
    if hint:
        named = id_token_hint.subject(hint, grant.client, grant.server.issuer(request))
        if named != subject_for(user, grant.client):
            raise SignInAgain("The signed-in user is not the one id_token_hint names.")


_chosen = threading.local()


def use_ui_locales(value: str) -> None:
    """Show the pages in the first of the client's ``ui_locales`` the site offers, for
    this request only (see :func:`forget_ui_locales`)."""
    offered = {code.lower() for code, _name in settings.LANGUAGES}
    for tag in value.split()[:10]:
        for candidate in (tag.lower(), tag.split("-")[0].lower()):
            if candidate in offered:
                _chosen.previous = translation.get_language()
                translation.activate(candidate)
                return


def forget_ui_locales(**kwargs: Any) -> None:
    """``request_finished``: the thread's next request must not inherit the language a
    client chose (a site without LocaleMiddleware never activates one itself)."""
    previous = getattr(_chosen, "previous", False)
    if previous is not False:
        del _chosen.previous
        if previous:
            translation.activate(str(previous))
        else:
            translation.deactivate()


def record(grant: Any, code: AuthorizationCode) -> None:
    """Keep how the user signed in for this authorization (a hook, as the code is stored)."""
    if "openid" not in code.scope_list:
        return
    data = grant.request.payload.data
    _create(
        grant.request.django_request,
        code,
        sid=session_id(grant.request.django_request),
        nonce=data.get("nonce", ""),
        claims=parse_claims_parameter(data.get("claims")),
    )


def record_device_approval(request: HttpRequest, authorization: Any) -> None:
    """The same for a device authorization (RFC 8628) the user approved in ``request``.

    No ``sid``: the device does not share the browser's session, so signing out of the
    browser neither ends its sign-in nor revokes its tokens. No nonce and no ``claims``
    parameter: the device flow has neither.
    """
    if "openid" not in authorization.scope_list:
        return
    # Its refresh tokens live from the exchange, which comes at the latest at expiry.
    _create(request, authorization, sid="", nonce="", claims={}, start=authorization.expires_at)


def _create(
    request: HttpRequest,
    credential: Any,
    *,
    sid: str,
    nonce: str,
    claims: Any,
    start: datetime | None = None,
) -> None:
    user = credential.user
    context = get_adapter().get_authentication_context(request, user)
    signed_in = auth_time(request, user)
    lifetime = oauthflow_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME
    Authentication.objects.create(
        family=credential.family,
        client=credential.client,
        user=user,
        sub=subject_for(user, credential.client),
        sid=sid,
        nonce=nonce,
        auth_time=None
        if signed_in is None
        else datetime.fromtimestamp(signed_in, tz=dt_timezone.utc),
        acr=str(context.get("acr", ""))[:255],
        amr=" ".join(context.get("amr", []))[:255],
        claims=claims,
        expires_at=(start or credential.created_at) + timedelta(seconds=lifetime),
    )
