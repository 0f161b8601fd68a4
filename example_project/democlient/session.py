"""The demo client's own server-side session, apart from the provider's.

A real third-party app runs on another host and has its own cookie; sharing the
provider's session would blur the line this demo is drawn to show (signing out at the
provider would wipe the app's tokens, and the app could read the provider's session).
So the client keeps its state (the pending ``state`` and PKCE verifier, the tokens) in a
database-backed session of its own, under its own cookie scoped to ``/demo/``. The
browser holds only a random session key; nothing secret ever reaches it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "democlient_session"
COOKIE_PATH = "/demo/"
COOKIE_AGE = 24 * 3600


def client_session(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Load the client's session into ``request.client_session``; save it after the view.

    An unknown or expired key from the cookie gets a fresh session with a new key
    (the database backend never adopts a key it did not issue), so a planted cookie
    cannot fix the session.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        store = SessionStore(session_key=request.COOKIES.get(COOKIE_NAME))
        request.client_session = store
        response = view(request, *args, **kwargs)
        if store.modified:
            store.set_expiry(COOKIE_AGE)
            store.save()
            response.set_cookie(
                COOKIE_NAME,
                store.session_key,
                max_age=COOKIE_AGE,
                path=COOKIE_PATH,
                secure=request.is_secure(),
                httponly=True,
                # Lax: the provider's redirect back to the callback is a top-level GET
                # navigation, which Lax lets the cookie ride along on.
                samesite="Lax",
            )
        return response

    return wrapper
