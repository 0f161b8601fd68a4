"""``prompt=login`` (OpenID Connect Core §3.1.2.1, used here for plain OAuth): proof that
the user signed in again after this very authorization request asked them to.

The proof travels in the authorization URL itself, as a signed parameter naming the
request (a digest of its other parameters) and the time we sent the user to sign in. It is
tied to one request and expires, so declining, closing the tab or another client's
``prompt=login`` never turns a later request into a silent one. Nothing is kept in the
session, so switching accounts at the login page still works.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

from django.core import signing


class SignInAgain(Exception):
    """Raised by an authorization check: the user must sign in again before this request
    goes on (OpenID Connect's ``max_age``, ``select_account``, a different user named by
    ``id_token_hint``). With ``prompt=none`` the client gets ``login_required`` instead."""


#: Our own query parameter on the authorization URL; it never reaches Authlib.
PARAMETER = "oauthflow_login"
_SALT = "oauthflow.prompt-login"
#: How long the user has to sign in.
MAX_AGE = 600


def _request_digest(pairs: list[tuple[str, str]]) -> str:
    return hashlib.sha256(urlencode(pairs).encode()).hexdigest()[:32]


def mark(pairs: list[tuple[str, str]]) -> str:
    """A signed note: login was asked for this request, now."""
    return signing.dumps({"r": _request_digest(pairs), "t": time.time()}, salt=_SALT)


def signed_in_since(value: str | None, pairs: list[tuple[str, str]], user: Any) -> bool:
    """True if ``user`` signed in after ``value`` (a :func:`mark`) asked for this request."""
    if not value:
        return False
    try:
        data = signing.loads(value, salt=_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    last_login = getattr(user, "last_login", None)
    return (
        isinstance(data, dict)
        and data.get("r") == _request_digest(pairs)
        and last_login is not None
        and last_login.timestamp() > float(data.get("t", float("inf")))
    )


def url_with_mark(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode([*pairs, (PARAMETER, mark(pairs))])}"
