"""A client's public keys: its registered ``jwks``, or its ``jwks_uri`` fetched and kept.

Registered keys are parsed on each use (a few keys, microseconds). A ``jwks_uri`` is
fetched the way an API fetches the provider's keys (``oauthflow.formats.keysource``):
kept for its ``Cache-Control: max-age`` (1 minute to a day), fetched again early for a
key ID it lacks at most once a minute, never more than once at a time, and held to the
same rules as registered keys (public EC or RSA keys only). Unlike the provider's keys,
a client's come only from a public address, without redirects, within 20 KB. Each
process keeps the key sets of at most :data:`MAX_REMOTE` URIs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from joserfc.jwk import KeySet

from ..client_keys import MAX_JWKS_LENGTH, InvalidKeySet, parse_jwks
from ..formats.keysource import RemoteKeys, get_json
from ..models import Client
from ..outbound import public_host

MAX_REMOTE = 1000


class ClientJWKS(RemoteKeys):
    """The key set at one client's ``jwks_uri``."""

    DESCRIPTION = "a client's JWKS"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._jwks_url = url

    def _url(self) -> str:
        return self._jwks_url

    def _fetch(self) -> tuple[dict[str, Any], int]:
        # Whoever registers a client chooses this URL: it must not reach the provider's
        # own network (SSRF), nor lead there by a redirect, nor be large.
        if not public_host(self._jwks_url):
            raise ValueError("The JWKS URI's host is not on the public internet.")
        return get_json(self._jwks_url, max_bytes=MAX_JWKS_LENGTH, follow_redirects=False)

    def _parse(self, body: dict[str, Any]) -> KeySet:
        try:
            return parse_jwks(body)
        except InvalidKeySet as error:
            raise ValueError(str(error)) from error

    def _find(self, kid: str | None) -> Any:
        # No kid in the assertion: every key is a candidate.
        if kid is None:
            return self._keys
        return super()._find(kid)


_remote: OrderedDict[str, ClientJWKS] = OrderedDict()
_remote_lock = threading.Lock()


def candidates(client: Client, kid: str | None) -> list[Any]:
    """The keys that may have signed an assertion whose header names ``kid`` (or none)."""
    if client.jwks.strip():
        try:
            key_set = parse_jwks(client.jwks)
        except InvalidKeySet:
            return []  # validated when saved; edited since by hand in the database
        keys = list(key_set.keys)
        return keys if kid is None else [k for k in keys if k.kid == kid]
    if not client.jwks_uri:
        return []
    found = _source(client.jwks_uri).key(kid)
    if found is None:
        return []
    return list(found.keys) if isinstance(found, KeySet) else [found]


def _source(url: str) -> ClientJWKS:
    with _remote_lock:
        source = _remote.get(url)
        if source is None:
            source = _remote[url] = ClientJWKS(url)
            while len(_remote) > MAX_REMOTE:
                _remote.popitem(last=False)
        else:
            _remote.move_to_end(url)
        return source


def forget() -> None:
    """Drop every fetched key set (tests; a key rotation that cannot wait)."""
    with _remote_lock:
        _remote.clear()
