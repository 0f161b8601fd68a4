"""An optional cache of access-token lookups, so a protected request can skip the database.

Off unless ``OAUTHFLOW["TOKEN_CACHE"]`` names a Django cache alias (``settings.CACHES``).

What is kept
    Under ``oauthflow:at:3:<digest>``, the SHA-256 digest the database already holds: the
    token's row, its client's row without the secret digest, and its user's row without
    the password hash. Nothing in the cache gives back a token.

For how long
    Until the token expires, and never longer than :data:`MAX_ENTRY_SECONDS`, which bounds
    how long a cache that missed an invalidation (say, across a network partition) can
    be wrong.

Staying right
    Entries are only added (``cache.add``), never overwritten. Whatever makes a token
    invalid or an entry out of date writes a *stale marker* over its key once the database
    change commits: a revocation (the store's ``access_tokens_invalidated``), a client or
    user saved with any field an entry holds changed (deactivated, or a user demoted from
    staff), or deleted (signals, connected by ``OAuthFlowConfig.ready``). A marker sends
    every process to the database for that token, and nothing is cached for it again
    until it expires. Because ``add`` never replaces a marker, a request that read the old
    row just before the change cannot put it back. ``QuerySet.update()`` sends no signals:
    after one that changes clients or users, call :func:`invalidate_client` or
    :func:`invalidate_user`.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.signals import request_finished
from django.db import models, router, transaction
from django.db.models.signals import post_save, pre_delete
from django.utils import timezone

from ..models import AccessToken, Client
from ..settings import oauthflow_settings
from ..store.revocation import access_tokens_invalidated
from .markers import KEY_PREFIX, STALE

# The name sites configure logging by (it predates this module).
logger = logging.getLogger("oauthflow.token_cache")

M = TypeVar("M", bound=models.Model)

#: The longest an entry lives, in seconds, however long its token has left.
MAX_ENTRY_SECONDS = 300
_BATCH = 1000
#: formats.jwt.LEEWAY (30 s) and as much again for clocks that disagree.
_JWT_LEEWAY_AND_SKEW = 60
#: Fields never put in an entry: nothing in the cache may give back a secret's digest, and
#: ``last_login``, written at every sign-in, is left out so that signing in does not cost
#: an invalidation (a view that reads it loads it, as a deferred field).
_CLIENT_LEFT_OUT = {"secret_digest", "legacy_secret_hash"}
_USER_LEFT_OUT = {"password", "last_login"}


def get_cache() -> BaseCache | None:
    """The configured token cache, or None when caching is off."""
    alias = oauthflow_settings.TOKEN_CACHE
    return caches[alias] if alias else None


def cache_key(digest: str) -> str:
    return KEY_PREFIX + digest


# Reading and writing entries ---------------------------------------------------------------


def load(cache: BaseCache, digest: str) -> AccessToken | str | None:
    """The cached token (client and user attached), :data:`STALE`, or None on a miss.

    A cache that cannot be reached counts as a miss: the database still answers. So does
    an entry cached before the cache last failed this process (see :class:`_Outage`).
    """
    if not _outage.flush(cache):
        return None
    try:
        entry = _get(cache, cache_key(digest))
    except Exception:
        _outage.failed()
        logger.warning("Token cache unreachable; asking the database.", exc_info=True)
        return None
    if entry is None or entry == STALE:
        return entry
    if not _outage.trusts(entry):
        return None
    try:
        return _rebuild(entry)
    except Exception:
        # Written by code with another model layout (a deploy under way): a miss.
        logger.warning("Unreadable token cache entry; asking the database.", exc_info=True)
        return None


def _get(cache: BaseCache, key: str) -> Any:
    """``cache.get(key)``, minus a cost of Django's own Redis backend on every read.

    ``django.core.cache.backends.redis.RedisCache`` builds a new ``redis.Redis`` client
    for each call (about 0.1 ms here, as much as the Redis round trip itself). The client
    is only a handle on the backend's connection pool, so for that backend the reader is
    built once per backend instance (Django keeps one per thread) and reused. Other
    backends, subclasses (which may change ``get``) and several servers (Django picks a
    read replica per call) are asked with ``cache.get``.
    """
    reader = _fast_reader(cache)
    if reader is None:
        return cache.get(key)
    get, loads = reader
    value = get(cache.make_and_validate_key(key))
    return None if value is None else loads(value)


def _fast_reader(cache: BaseCache) -> tuple[Any, Any] | None:
    """(redis get, deserializer) for a plain single-server ``RedisCache``, else None.

    This reaches into the backend's private attributes (``_cache``, ``_servers``,
    ``_serializer``), so each is checked: when a Django release renames one, reads go
    through ``cache.get`` and one warning says so; ``tests/resource/test_cache.py``
    asserts the fast path on the Django versions the suite runs. Worked out once per
    backend instance.
    """
    found = cache.__dict__.get("_oauthflow_reader", _UNSET)
    if found is not _UNSET:
        return found
    reader = None
    if type(cache) is RedisCache:
        try:
            backend = cache._cache
            servers = backend._servers  # type: ignore[attr-defined]
            if type(backend) is RedisCacheClient and len(servers) == 1:
                client = backend.get_client(write=False)
                reader = (client.get, backend._serializer.loads)  # type: ignore[attr-defined]
        except AttributeError:
            global _warned
            if not _warned:
                _warned = True
                logger.warning(
                    "This Django's RedisCache differs from what oauthflow knows; token "
                    "cache reads take the slower cache.get().",
                    exc_info=True,
                )
    cache.__dict__["_oauthflow_reader"] = reader
    return reader


_UNSET = object()
_warned = False


def store(cache: BaseCache, token: AccessToken) -> None:
    """Cache a token just found valid in the database (with its client and user loaded).

    Does nothing if the key holds anything already, in particular a stale marker.
    """
    remaining = (token.expires_at - timezone.now()).total_seconds()
    timeout = min(int(remaining), MAX_ENTRY_SECONDS)  # int() rounds down: never outlives
    if timeout < 1:
        return
    entry = {
        "at": time.time(),
        "token": _snapshot(token),
        "client": _snapshot(token.client, leave_out=_CLIENT_LEFT_OUT),
        "user": None if token.user is None else _snapshot(token.user, leave_out=_USER_LEFT_OUT),
    }
    try:
        cache.add(cache_key(token.digest), entry, timeout=timeout)
    except Exception:
        _outage.failed()
        logger.warning("Could not write to the token cache.", exc_info=True)


def _snapshot(instance: models.Model, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    skip = set(leave_out) | instance.get_deferred_fields()
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in skip
    }


def _restore(model: type[M], values: dict[str, Any], db: str) -> M:
    # Fields missing from the entry (left out, or added since) load on access, as
    # deferred fields do.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db, names, [values[name] for name in names])


def _rebuild(entry: dict[str, Any]) -> AccessToken:
    db = router.db_for_read(AccessToken)
    token = _restore(AccessToken, entry["token"], db)
    token.client = _restore(Client, entry["client"], db)
    user = entry["user"]
    token.user = None if user is None else _restore(get_user_model(), user, db)
    return token


# Invalidation ------------------------------------------------------------------------------


def forget_on_commit(tokens: models.QuerySet[AccessToken]) -> None:
    """Mark the cached entries of ``tokens`` stale once the current transaction commits.

    Call it inside the transaction that makes them invalid, with a queryset that still
    selects them after the change. One query when the cache is on; none when it is off.
    """
    cache = get_cache()
    if cache is None:
        return
    # On the database the change is written to: in its transaction, only that connection
    # sees the change (a read replica, or a second connection, would find nothing to
    # mark), and its commit is the one to wait for.
    db = router.db_for_write(tokens.model)
    # Expired tokens are refused even when cached, so they need no marker.
    live = tokens.using(db).filter(expires_at__gt=timezone.now())
    rows = list(live.values_list("digest", "expires_at"))
    if rows:
        transaction.on_commit(lambda: _mark_stale(cache, rows), using=db)


def invalidate_client(client: Client) -> None:
    """Forget the cached tokens of ``client``: call after changing it with ``QuerySet.update``."""
    forget_on_commit(AccessToken.objects.filter(client=client, revoked_at__isnull=True))


def invalidate_user(user: Any) -> None:
    """Forget the cached tokens of ``user``: call after changing it with ``QuerySet.update``."""
    forget_on_commit(AccessToken.objects.filter(user=user, revoked_at__isnull=True))


def _mark_stale(cache: BaseCache, rows: list[tuple[str, datetime]]) -> None:
    if not _write_markers(cache, rows):
        # The database change is committed; raising cannot undo it. This process retries
        # before it next uses the cache, and meanwhile trusts no entry (_Outage).
        _outage.postpone(rows)
        logger.error(
            "Could not mark %d access token(s) stale in the token cache; the markers will "
            "be written when the cache is reachable again.",
            len(rows),
        )


def _write_markers(cache: BaseCache, rows: list[tuple[str, datetime]]) -> bool:
    now = timezone.now()
    rows = [(d, e) for d, e in rows if e > now]  # an expired token needs no marker
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        # A marker must outlast every entry a racing request could still add, so it
        # lives as long as the longest-lived token of its batch.
        # Plus the leeway a JWT verifier gives exp, and as much again for clock skew.
        longest = max((e - now).total_seconds() for _, e in batch)
        timeout = max(1, math.ceil(longest) + _JWT_LEEWAY_AND_SKEW)
        failed: bool
        try:
            # Memcached answers with the keys it could not store.
            failed = bool(cache.set_many({cache_key(d): STALE for d, _ in batch}, timeout=timeout))
        except Exception:
            failed = True
            logger.warning("Token cache unreachable while marking tokens.", exc_info=True)
        if failed:
            _outage.failed()
            return False
    return True


class _Outage:
    """What this process knows about the cache having failed it, so that a revocation is
    not missed when the cache comes back.

    * Markers that could not be written are kept and written before the cache is used
      again; until then every read is a miss.
    * An entry cached before the last failure this process saw is not trusted (a miss):
      a marker another process could not write may be missing for it. Entries carry the
      time they were cached; ``CLOCK_SKEW`` allows for other hosts' clocks.

    A process that saw no failure trusts every entry; an entry lives
    :data:`MAX_ENTRY_SECONDS` at most.
    """

    CLOCK_SKEW = 30.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, datetime] = {}
        self._last_failure = 0.0

    def failed(self) -> None:
        self._last_failure = time.time()

    def has_postponed(self) -> bool:
        return bool(self._pending)

    def postpone(self, rows: list[tuple[str, datetime]]) -> None:
        with self._lock:
            self._pending.update(rows)

    def flush(self, cache: BaseCache) -> bool:
        """Write the postponed markers; True when none is left (the usual case, at once)."""
        if not self._pending:
            return True
        with self._lock:
            rows = list(self._pending.items())
            if not _write_markers(cache, rows):
                return False
            for digest, _ in rows:
                self._pending.pop(digest, None)
        logger.warning("Wrote %d postponed stale marker(s) to the token cache.", len(rows))
        return True

    def trusts(self, entry: dict[str, Any]) -> bool:
        if not self._last_failure:
            return True
        return bool(entry.get("at", 0.0) > self._last_failure + self.CLOCK_SKEW)


_outage = _Outage()


def _changes_cached_fields(update_fields: Iterable[str] | None, left_out: set[str]) -> bool:
    """Whether a save may have changed a field an entry holds: all of them but those left
    out of the entry (a full save counts)."""
    return update_fields is None or not set(update_fields) <= left_out


def _client_saved(
    sender: Any, instance: Client, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    # Any change, not only deactivation: a cached copy must never outlive what it copies.
    if _changes_cached_fields(update_fields, _CLIENT_LEFT_OUT):
        invalidate_client(instance)


def _user_saved(
    sender: Any, instance: Any, update_fields: Iterable[str] | None = None, **kwargs: Any
) -> None:
    # Demoting a user (is_staff, is_superuser) must take effect on their next request, as
    # deactivating does.
    if _changes_cached_fields(update_fields, _USER_LEFT_OUT):
        invalidate_user(instance)


def _client_deleted(sender: Any, instance: Client, **kwargs: Any) -> None:
    invalidate_client(instance)


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidate_user(instance)


def _tokens_invalidated(sender: Any, tokens: models.QuerySet[AccessToken], **kwargs: Any) -> None:
    forget_on_commit(tokens)


def _flush_postponed(**kwargs: Any) -> None:
    """Postponed markers go out at the end of every request and when the process exits,
    not only when this process next reads the cache (it may never: a management command,
    a worker that serves no protected view)."""
    if _outage.has_postponed():
        cache = get_cache()
        if cache is not None:
            _outage.flush(cache)


def connect_signals() -> None:
    """Keep the cache right when tokens are revoked and clients and users change; called by
    the app's ``ready()``."""
    request_finished.connect(_flush_postponed, dispatch_uid="oauthflow.cache.flush")
    atexit.register(_flush_postponed)
    access_tokens_invalidated.connect(
        _tokens_invalidated, sender=AccessToken, dispatch_uid="oauthflow.cache.invalidated"
    )
    user_model = settings.AUTH_USER_MODEL
    post_save.connect(_client_saved, sender=Client, dispatch_uid="oauthflow.cache.client_saved")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="oauthflow.cache.user_saved")
    pre_delete.connect(
        _client_deleted, sender=Client, dispatch_uid="oauthflow.cache.client_deleted"
    )
    pre_delete.connect(_user_deleted, sender=user_model, dispatch_uid="oauthflow.cache.user_del")
