"""CORS (Cross-Origin Resource Sharing) for apps that run in the browser.

A single-page app is a public client: its code, served from its own web origin, calls the
token, revocation and pushed authorization request endpoints, and UserInfo, with
``fetch()``. The browser lets the page read an answer only if it names the page's origin
in ``Access-Control-Allow-Origin``. This module decides which origins that is.

Per client
    A client allows the origins listed in ``Client.allowed_origins``, or, when that is
    empty, the origins of its https and loopback http redirect URIs (the page the code
    comes back to is the page that redeems it). A confidential client allows none: its
    secret must never be in a web page.

Before the client is known
    A preflight (``OPTIONS``) carries no body, so no client: it is allowed for an origin
    that some active public client allows. That set is kept per process (see
    :class:`_Origins`) so a preflight costs no query. It is hygiene, not the protection:
    the request that follows is decided for its own client.

The protection
    A form POST is a CORS "simple request": the browser sends it without a preflight and
    only hides the answer. So a request that carries an ``Origin`` its client does not
    allow is refused once the client is authenticated, before anything is written
    (``oauthflow.server.authorization_server.AuthorizationServer.authenticate_client``).

Never credentials
    No answer carries ``Access-Control-Allow-Credentials``: these endpoints take no
    cookies. A page holds what it sends (a code and verifier, a token); the browser adds
    nothing of the user's on its own, so another site's page can do nothing with them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.db import router
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from . import unavailable
from .models import Client
from .redirect_uris import origin_of

#: Headers a page may send: a form body, a client's Basic credentials or a bearer token,
#: and a DPoP proof (RFC 9449), which is a header of its own.
ALLOW_HEADERS = "Authorization, Content-Type, DPoP"
#: Headers a page may read: a challenge, a DPoP nonce (RFC 9449 §8 and §9), and when to
#: try again after a 503.
EXPOSE_HEADERS = "WWW-Authenticate, DPoP-Nonce, Retry-After"
#: How long a browser may keep a preflight's answer (browsers cap it: Chromium at 2 hours).
#: A stale "yes" costs nothing: the request itself is decided for its client.
MAX_AGE = "7200"
#: How often a process reads the public clients' origins again, at most. A client saved in
#: this process takes effect at once; in another, within this many seconds.
RELOAD_SECONDS = 60
#: After a failed read, how long before the next try.
RETRY_AFTER_FAILURE = 5

#: Why a request from a page its client does not allow is refused (fixed text: the origin
#: is not echoed).
ORIGIN_REFUSED = (
    "This client does not accept requests from this web origin: add it to the client's "
    "allowed origins."
)

# Set on the Django request by client_endpoint(): the endpoint answers browsers, and (once
# authenticated) the client the request was made for.
_SERVED = "_oauthflow_cors"
_CLIENT = "_oauthflow_cors_client"
# Set by refuse(): the answer is a refusal of the page's origin, which it may not read.
_REFUSED = "_oauthflow_cors_refused"


# Which origins --------------------------------------------------------------------------------


def client_origins(client: Client) -> frozenset[str]:
    """The web origins whose pages may call the endpoints as ``client``."""
    if client.is_confidential:
        return frozenset()
    listed = client.allowed_origins.split()
    if listed:
        # Validated on save; a row written around the form still yields only origins.
        return frozenset(o for o in listed if origin_of(o) == o)
    return frozenset(o for o in map(origin_of, client.redirect_uri_list) if o is not None)


def request_origin(request: HttpRequest) -> str | None:
    """The ``Origin`` header, if the request has one (a browser's cross-origin request)."""
    return request.headers.get("Origin")


def origin_allowed(origin: str | None, client: Client) -> bool:
    """Whether a page on ``origin`` may call the endpoints as ``client``. Compared as
    the exact string a browser sends: ``null`` and anything unusual never match."""
    return origin is not None and origin in client_origins(client)


class _Origins:
    """Every origin some active public client allows: for preflights, which name no
    client. Read at most every RELOAD_SECONDS, and again after a client is saved or
    deleted here. Deactivating with ``QuerySet.update()`` sends no signal; the reload
    catches it, and until then only a preflight is answered too kindly."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded: tuple[float, frozenset[str]] | None = None

    def get(self) -> frozenset[str]:
        loaded = self.loaded
        if loaded is not None and time.monotonic() - loaded[0] <= RELOAD_SECONDS:
            return loaded[1]
        # Stale: one thread reads, the others go on with what is held. None held: wait.
        if not self.lock.acquire(blocking=loaded is None):
            return loaded[1] if loaded is not None else frozenset()
        try:
            if self.loaded is not loaded and self.loaded is not None:
                return self.loaded[1]  # another thread read them meanwhile
            started = time.monotonic()
            try:
                origins = self._read()
            except unavailable.DATABASE_UNAVAILABLE:
                # Keep what was held, and try again soon rather than on every request
                # (each would wait for the database in turn, behind this lock).
                kept = loaded[1] if loaded is not None else frozenset()
                self.loaded = (started - RELOAD_SECONDS + RETRY_AFTER_FAILURE, kept)
                raise
            self.loaded = (started, origins)
            return origins
        finally:
            self.lock.release()

    def add(self, origins: frozenset[str]) -> None:
        loaded = self.loaded
        if loaded is not None and not origins <= loaded[1]:
            self.loaded = (loaded[0], loaded[1] | origins)

    @staticmethod
    def _read() -> frozenset[str]:
        rows = (
            Client.objects.using(router.db_for_read(Client))
            .filter(is_active=True, client_type=Client.PUBLIC)
            .only("client_type", "allowed_origins", "redirect_uris")
        )
        found: set[str] = set()
        for client in rows.iterator():
            found |= client_origins(client)
        return frozenset(found)

    def clear(self) -> None:
        self.loaded = None


_origins = _Origins()


def forget(**kwargs: Any) -> None:
    """Drop this process's copy of the public clients' origins."""
    _origins.clear()


def _client_saved(sender: Any, instance: Client, **kwargs: Any) -> None:
    # A saved client's origins join this process's set at once, with no query: never a
    # full read per save, which open registration could make anyone cause. A removed
    # origin (a client deleted, deactivated, changed) leaves at the next reload; until
    # then only a preflight is answered too kindly.
    if instance.is_active:
        _origins.add(client_origins(instance))


post_save.connect(_client_saved, sender=Client, dispatch_uid="oauthflow.cors.client_saved")


def any_client_allows(origin: str | None) -> bool:
    """Whether some active public client allows ``origin`` (no query, most of the time)."""
    return origin is not None and origin in _origins.get()


# Answers ----------------------------------------------------------------------------------------


def is_preflight(request: HttpRequest) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight(request: HttpRequest, methods: Collection[str]) -> HttpResponse:
    """A preflight's answer, 204: the CORS headers if a public client allows the origin
    and ``methods`` holds the one asked for; none otherwise (the browser then stops)."""
    response = HttpResponse(status=204)
    patch_vary_headers(response, ("Origin",))
    origin = request_origin(request)
    asked = request.headers.get("Access-Control-Request-Method")
    try:
        allowed = asked in methods and any_client_allows(origin)
    except unavailable.DATABASE_UNAVAILABLE as error:
        # The same 204 as a refusal: the browser stops, and tries again on its next call.
        unavailable.log(error)
        allowed = False
    if allowed and origin is not None:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = ", ".join(methods)
        response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response["Access-Control-Max-Age"] = MAX_AGE
    return response


def allow_origin(request: HttpRequest, response: HttpResponse, origins: Collection[str]) -> None:
    """Let the page read ``response`` if its origin is in ``origins``."""
    patch_vary_headers(response, ("Origin",))
    origin = request_origin(request)
    if origin is not None and origin in origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS


def allow_for_client(request: HttpRequest, response: HttpResponse, client: Client | None) -> None:
    """Let the page read ``response`` if ``client`` allows its origin; with no client
    known (a request refused before authentication, a token that did not verify), if some
    public client does, so the app can read the error."""
    if client is not None:
        allow_origin(request, response, client_origins(client))
        return
    origin = request_origin(request)
    try:
        known = origin is not None and any_client_allows(origin)
    except unavailable.DATABASE_UNAVAILABLE as error:
        unavailable.log(error)
        known = False
    allow_origin(request, response, (origin,) if known and origin is not None else ())


# The client endpoints -----------------------------------------------------------------------------


def client_endpoint(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Serve a client-authenticated POST endpoint to browser apps: answer its preflight,
    refuse a page its client does not allow (see :func:`admits`), and let an allowed page
    read every answer, errors included. Wraps ``views.token._client_endpoint``."""

    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if is_preflight(request):
            return preflight(request, ("POST",))
        setattr(request, _SERVED, True)
        response = view(request)
        if getattr(request, _REFUSED, False):
            patch_vary_headers(response, ("Origin",))  # a refusal: never for the page
        else:
            allow_for_client(request, response, getattr(request, _CLIENT, None))
        return response

    return wrapped


def from_a_page(request: HttpRequest | None) -> bool:
    """Whether ``request`` reached an endpoint served to browsers from a web page (it
    carries ``Origin``)."""
    return (
        request is not None
        and getattr(request, _SERVED, False)
        and request_origin(request) is not None
    )


def refuse(request: HttpRequest | None) -> None:
    """Mark ``request`` as refused for its origin: its answer carries no CORS headers,
    even for an origin some other public client allows."""
    if request is not None:
        setattr(request, _REFUSED, True)


def admits(request: HttpRequest | None, client: Client) -> bool:
    """Called once a client is authenticated: False if the request came from a page on a
    web origin the client does not allow, at an endpoint that answers browsers. Nothing
    has been written yet; the caller refuses the request.

    A request without ``Origin`` is not a browser's cross-origin call (a server, a native
    app) and is admitted. Endpoints not served to browsers (introspection, device
    authorization) admit every request, as before: no page can read their answers.
    """
    if request is None or not getattr(request, _SERVED, False):
        return True
    setattr(request, _CLIENT, client)
    origin = request_origin(request)
    return origin is None or origin_allowed(origin, client)
