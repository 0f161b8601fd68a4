"""Where an API finds the public keys that sign JWT access tokens.

* **On the provider's host** (``oauthflow`` installed, no ``JWKS_URI`` set): the keys in
  the provider's database, through ``oauthflow.keys``' in-process copy, read again at most
  once a minute: no query per request.
* **On another host** (``oauthflow`` not installed, or ``JWKS_URI`` set): the provider's
  JWKS, fetched over HTTPS from ``JWKS_URI`` (or the ``jwks_uri`` of ``ISSUER``'s
  metadata), kept as long as its ``Cache-Control: max-age`` says (between
  :data:`MIN_CACHE` and :data:`MAX_CACHE` seconds), and fetched again early when a token
  names a key it does not hold, at most once every :data:`REFETCH_INTERVAL` seconds, so
  tokens with made-up key ids cannot make it hammer the provider. While it holds no keys
  (the provider was unreachable), it tries again at most once every
  :data:`RETRY_AFTER_FAILURE` seconds, not on every request. Only over https, or plain
  http to a loopback host or with ``ALLOW_INSECURE_TRANSPORT``: whoever can change the
  keys in transit can sign any token. Nothing of oauthflow's models or database is needed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener, urlopen

from django.apps import apps
from django.core.signals import setting_changed
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..redirect_uris import is_loopback_host
from ..settings import oauthflow_settings

logger = logging.getLogger("oauthflow.jwks")

MIN_CACHE = 60
MAX_CACHE = 24 * 3600
DEFAULT_CACHE = 300
REFETCH_INTERVAL = 60
#: With no keys held, how long after a failed fetch the next one may start.
RETRY_AFTER_FAILURE = 10
FETCH_TIMEOUT = 5
#: Seconds a whole fetch may take, however slowly the peer sends (FETCH_TIMEOUT bounds
#: each read only).
FETCH_DEADLINE = 10
_MAX_AGE = re.compile(r"max-age=(\d+)")


class TokenUser:
    """The user of a JWT access token on an API without the provider's user table: known
    by the subject (``sub``) alone. Authenticated, not staff, no primary key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, sub: str) -> None:
        self.sub = self.username = sub

    def get_username(self) -> str:
        return self.sub

    def __str__(self) -> str:
        return self.sub

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.sub == self.sub

    def __hash__(self) -> int:
        return hash(self.sub)


class TokenClient:
    """The client of a JWT access token on an API without the provider's client table:
    known by its ``client_id`` alone."""

    is_active = True

    def __init__(self, client_id: str) -> None:
        self.client_id = self.name = client_id

    def __str__(self) -> str:
        return self.client_id


class LocalKeys:
    """The provider's own keys (this host runs oauthflow)."""

    @property
    def issuer(self) -> str | None:
        # Unset, the issuer follows each request's host: the signature, made with keys
        # only this provider holds, is then what ties a token to it.
        return oauthflow_settings.ISSUER

    def key(self, kid: str) -> Any:
        from .. import keys

        return keys.verification_key(kid)

    @staticmethod
    def load_user(token: Any) -> Any:
        from ..store import lookups

        row = lookups.subject.get(token.sub)
        return row.user if row is not None else TokenUser(token.sub)

    @staticmethod
    def load_client(token: Any) -> Any:
        from ..store import lookups

        return lookups.client.get(token.client_id) or TokenClient(token.client_id)


class RemoteKeys:
    """The provider's JWKS, fetched over HTTP and cached (see the module). A subclass
    fetches another key set the same way (a client's ``jwks_uri``: oauthflow.private_key_jwt)."""

    def __init__(self) -> None:
        #: Guards the fields below; never held across the network.
        self._lock = threading.Lock()
        #: Held by the one thread fetching: the others go on with the keys they have.
        self._fetching = threading.Lock()
        self._keys: KeySet | None = None
        self._expires = 0.0
        #: When the last fetch started, successful or not; None before the first.
        self._last_fetch: float | None = None

    @property
    def issuer(self) -> str | None:
        return oauthflow_settings.ISSUER

    def key(self, kid: str | None) -> Any:
        with self._lock:
            found = self._find(kid)
            if not self._needs_fetch(found, time.monotonic()):
                return found
            held = self._keys is not None
        # Keys held and only stale: one thread fetches, the others use them meanwhile.
        # None held, or a new kid (a rotation): wait for the fetch, there is nothing else.
        # Waiting is bounded too: a peer slow on purpose holds one thread, not every one.
        if held and found is not None:
            acquired = self._fetching.acquire(blocking=False)
        else:
            acquired = self._fetching.acquire(timeout=FETCH_DEADLINE + 1)
        if not acquired:
            return found
        try:
            now = time.monotonic()
            with self._lock:
                # Another thread may have fetched while this one waited.
                if not self._needs_fetch(self._find(kid), now):
                    return self._find(kid)
                self._last_fetch = now
            fetched = self._download()
            with self._lock:
                self._store(fetched, now)
                return self._find(kid)
        finally:
            self._fetching.release()

    def _needs_fetch(self, found: Any, now: float) -> bool:
        if self._due(now):
            return True
        # A kid the held keys lack: a rotation, if not fetched a moment ago.
        return (
            found is None and self._keys is not None and self._since_fetch(now) >= REFETCH_INTERVAL
        )

    def _since_fetch(self, now: float) -> float:
        # Negative when another thread fetched while this one waited for the lock.
        return float("inf") if self._last_fetch is None else now - self._last_fetch

    def _due(self, now: float) -> bool:
        if self._keys is not None:
            return now >= self._expires
        # None held: never fetched, or the provider could not be reached. Not again on
        # every request (each would wait FETCH_TIMEOUT, one after the other, behind the
        # lock), but soon: until it answers, every JWT access token is refused.
        return self._since_fetch(now) >= RETRY_AFTER_FAILURE

    def _find(self, kid: str | None) -> Any:
        if self._keys is None:
            return None
        for key in self._keys.keys:
            if key.kid == kid:
                return key
        return None

    def _download(self) -> tuple[KeySet, int] | None:
        """The public keys and how long to keep them, or None."""
        try:
            body, max_age = self._fetch()
            keys = self._parse(body)
        except (OSError, ValueError, KeyError, TypeError, JoseError) as exc:
            logger.warning("Could not fetch %s: %s.", self.DESCRIPTION, type(exc).__name__)
            return None
        return keys, max_age

    #: What is fetched, for the log.
    DESCRIPTION = "the provider's JWKS"

    def _url(self) -> str:
        return jwks_uri()

    def _fetch(self) -> tuple[dict[str, Any], int]:
        return get_json(self._url())

    def _parse(self, body: dict[str, Any]) -> KeySet:
        return KeySet.import_key_set({"keys": [k for k in body["keys"] if "d" not in k]})

    def _store(self, fetched: tuple[KeySet, int] | None, now: float) -> None:
        if fetched is None:
            if self._keys is not None:
                self._expires = now + MIN_CACHE  # keep the old keys, try again later
            return
        self._keys, max_age = fetched
        self._expires = now + max_age

    @staticmethod
    def load_user(token: Any) -> Any:
        return TokenUser(token.sub)

    @staticmethod
    def load_client(token: Any) -> Any:
        return TokenClient(token.client_id)


def jwks_uri() -> str:
    configured = oauthflow_settings.JWKS_URI
    if configured:
        return str(configured)
    issuer = oauthflow_settings.ISSUER
    if not issuer:
        raise ValueError("Set OAUTHFLOW['ISSUER'] (or JWKS_URI) to verify JWT access tokens.")
    metadata, _ = get_json(issuer.rstrip("/") + "/.well-known/oauth-authorization-server")
    if metadata.get("issuer") != issuer:
        raise ValueError("The provider's metadata names another issuer.")
    return str(metadata["jwks_uri"])


def may_fetch(url: str) -> bool:
    """https; plain http only to this machine or with ALLOW_INSECURE_TRANSPORT (tests)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return True
    if scheme != "http":
        return False
    return bool(oauthflow_settings.ALLOW_INSECURE_TRANSPORT) or is_loopback_host(parts.hostname)


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx: nothing more is requested


_WITHOUT_REDIRECTS = build_opener(_NoRedirects)


def get_json(
    url: str, *, max_bytes: int = 1_000_000, follow_redirects: bool = True
) -> tuple[dict[str, Any], int]:
    """The JSON object at ``url`` and how long to keep it. Read within FETCH_DEADLINE,
    at most ``max_bytes``; without ``follow_redirects``, a redirect is an error."""
    if not may_fetch(url):
        raise ValueError("Only https URLs are fetched (see ALLOW_INSECURE_TRANSPORT).")
    request = Request(url, headers={"Accept": "application/json"})  # noqa: S310 (checked)
    opener = urlopen if follow_redirects else _WITHOUT_REDIRECTS.open
    deadline = time.monotonic() + FETCH_DEADLINE
    with opener(request, timeout=FETCH_TIMEOUT) as response:
        if not may_fetch(response.geturl()):  # redirected from https to http
            raise ValueError("Only https URLs are fetched (see ALLOW_INSECURE_TRANSPORT).")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(8192):  # what has come: the deadline is checked
            size += len(chunk)
            if size > max_bytes or time.monotonic() > deadline:
                raise ValueError("The document is too large, or too slow to come.")
            chunks.append(chunk)
        body = json.loads(b"".join(chunks))
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
    max_age = int(match.group(1)) if match else DEFAULT_CACHE
    if not isinstance(body, dict):
        raise ValueError("Not a JSON object.")
    return body, max(MIN_CACHE, min(MAX_CACHE, max_age))


_source: LocalKeys | RemoteKeys | None = None


def get() -> LocalKeys | RemoteKeys:
    global _source
    if _source is None:
        local = apps.is_installed("oauthflow") and not oauthflow_settings.JWKS_URI
        _source = LocalKeys() if local else RemoteKeys()
    return _source


def _forget(*, setting: str, **kwargs: Any) -> None:
    global _source
    if setting in ("OAUTHFLOW", "INSTALLED_APPS"):
        _source = None


setting_changed.connect(_forget)
