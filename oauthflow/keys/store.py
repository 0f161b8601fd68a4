"""The signing keys' life cycle and the in-process copy of the table (see the package)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.db import router, transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from joserfc.jwk import ECKey, RSAKey

from ..models import Resource, SigningKey
from ..settings import oauthflow_settings
from . import encryption

#: How often a process reads the key table again, at most. Also how much longer than
#: ``ID_TOKEN_LIFETIME`` a key that stopped signing stays published: a process that has
#: not read the table since the change may sign with it that much longer.
RELOAD_SECONDS = 60

#: What each algorithm's keys are made of.
ALGORITHMS: dict[str, tuple[type[Any], Any]] = {
    "RS256": (RSAKey, 2048),
    "ES256": (ECKey, "P-256"),
}

PENDING = "pending"
SIGNING = "signing"
SUPERSEDED = "superseded"
RETIRED = "retired"
EXPIRED = "expired"


@dataclass(frozen=True)
class KeyState:
    """Where a key is in its life, and until when it is published (None: for as long as
    it is pending or signing)."""

    key: SigningKey
    state: str
    published_until: datetime | None
    #: When it stopped signing (superseded or retired), if it has.
    stopped_at: datetime | None = None

    @property
    def published(self) -> bool:
        return self.state != EXPIRED


class _Cache:
    """The rows, read at most every RELOAD_SECONDS, and the private keys decrypted so far.

    Rows read while this process has a key change not yet committed are not kept (for at
    most RELOAD_SECONDS, or until the commit): if that transaction rolled back, a kept copy
    would sign with a key no other process has, and no relying party can verify.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[SigningKey] | None = None
        self.loaded_at = 0.0
        self.hold_until = 0.0
        self.private: dict[str, Any] = {}
        #: The longest access token lifetime a resource sets, read with the rows.
        self.longest_resource_lifetime = 0
        #: The published public keys by kid, imported once per reading of the rows.
        self.public: tuple[int, float, dict[str, Any]] | None = None

    def get_rows(self) -> list[SigningKey]:
        with self.lock:
            now = time.monotonic()
            if self.rows is not None and now - self.loaded_at <= RELOAD_SECONDS:
                return self.rows
            rows = list(_table().order_by("signs_from", "pk"))
            longest = _longest_resource_lifetime()
            if now >= self.hold_until:
                self.rows, self.loaded_at = rows, now
                self.longest_resource_lifetime = longest
            return rows

    def clear(self, *, hold: bool = False) -> None:
        with self.lock:
            self.rows = None
            self.private.clear()
            self.public = None
            self.hold_until = time.monotonic() + RELOAD_SECONDS if hold else 0.0


_cache = _Cache()


def _table() -> Any:
    # The primary: a replica may not have a key this process (or the command) just made.
    return SigningKey.objects.using(router.db_for_write(SigningKey))


def forget(**kwargs: Any) -> None:
    """Drop this process's copy: the next use reads the table."""
    _cache.clear()


def _changed(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """A key was saved or deleted here: forget at once, and again at the commit."""
    _cache.clear(hold=transaction.get_connection(using).in_atomic_block)
    # Outside a transaction this runs at once; a rollback drops it, and the hold ends alone.
    transaction.on_commit(forget, using=using)


post_save.connect(_changed, sender=SigningKey, dispatch_uid="oauthflow.keys.forget.save")
post_delete.connect(_changed, sender=SigningKey, dispatch_uid="oauthflow.keys.forget.delete")


def _published_after_stop() -> timedelta:
    """How long a key stays published after it last signed: as long as what it signed
    stays valid (ID tokens, JWT access tokens, a resource's own lifetime), and a process
    may go on signing with it until it reads the table again."""
    longest = max(
        oauthflow_settings.ID_TOKEN_LIFETIME,
        oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME,
        _cache.longest_resource_lifetime,
    )
    return timedelta(seconds=longest + RELOAD_SECONDS)


def _longest_resource_lifetime() -> int:
    found = Resource.objects.filter(token_format=Resource.JWT).aggregate(
        longest=Max("access_token_lifetime")
    )["longest"]
    return int(found or 0)


def _order(row: SigningKey) -> tuple[datetime, int]:
    return row.signs_from, row.pk or 0


def key_states(now: datetime | None = None, rows: list[SigningKey] | None = None) -> list[KeyState]:
    """Every key with its state at ``now``, oldest first. ``rows``: these keys rather than
    this process's copy of the table."""
    now = now or timezone.now()
    rows = sorted(_cache.get_rows() if rows is None else rows, key=_order)
    after_stop = _published_after_stop()
    states: list[KeyState] = []
    for alg in sorted({row.alg for row in rows}):
        of_alg = [row for row in rows if row.alg == alg]
        # The keys that have signed: started, and not retired before they started. Each
        # stopped when the next of them started, for good: a superseded key never signs
        # again, even when the key that took over is retired.
        signed = [
            r
            for r in of_alg
            if r.signs_from <= now and (r.retired_at is None or r.retired_at > r.signs_from)
        ]
        took_over = {r.pk: nxt.signs_from for r, nxt in pairwise(signed)}
        for row in of_alg:
            if row.retired_at is not None:
                stopped = min(row.retired_at, took_over.get(row.pk, row.retired_at))
                until = stopped + after_stop
                states.append(KeyState(row, RETIRED if until > now else EXPIRED, until, stopped))
            elif row.signs_from > now:
                states.append(KeyState(row, PENDING, None))
            elif row.pk in took_over:
                stopped = took_over[row.pk]
                until = stopped + after_stop
                state = SUPERSEDED if until > now else EXPIRED
                states.append(KeyState(row, state, until, stopped))
            else:
                states.append(KeyState(row, SIGNING, None))
    return sorted(states, key=lambda s: _order(s.key))


def jwks() -> dict[str, Any]:
    """The JWK Set to publish: public parts only, of every key not yet expired."""
    return {"keys": [_public(s.key) for s in key_states() if s.published]}


def _public(row: SigningKey) -> dict[str, Any]:
    # Only the members of a public key, whatever the row holds.
    key_type = ALGORITHMS[row.alg][0]
    public = key_type.import_key(row.public_jwk).as_dict(private=False)
    public.update({"kid": row.kid, "alg": row.alg, "use": "sig"})
    return dict(public)


def signing_key(alg: str) -> tuple[str, Any]:
    """(kid, private key) of the key that signs ``alg`` now; one is made if none does."""
    if alg not in ALGORITHMS:
        raise ValueError(f"Unsupported signing algorithm {alg!r}.")
    current = [s.key for s in key_states() if s.state == SIGNING and s.key.alg == alg]
    # No key of this algorithm signs (none was made, or the last was retired): a new one
    # signs at once rather than no ID token being issued.
    row = current[-1] if current else create_key(alg, signs_from=timezone.now())
    return row.kid, _private(row)


def verification_key(kid: str) -> Any | None:
    """The public key published under ``kid``, or None.

    Every JWT access token an API on this host checks asks this: the published keys are
    imported once per reading of the table (at most every RELOAD_SECONDS), not per call.
    """
    rows = _cache.get_rows()
    now = time.monotonic()
    held = _cache.public
    if held is None or held[0] != id(rows) or now - held[1] > RELOAD_SECONDS:
        published = {
            s.key.kid: ALGORITHMS[s.key.alg][0].import_key(_public(s.key))
            for s in key_states(rows=rows)
            if s.published
        }
        held = (id(rows), now, published)
        with _cache.lock:
            _cache.public = held
    return held[2].get(kid)


def _private(row: SigningKey) -> Any:
    with _cache.lock:
        key = _cache.private.get(row.kid)
    if key is None:
        data = json.loads(encryption.decrypt(row.private_jwk_encrypted))
        key = ALGORITHMS[row.alg][0].import_key(data)
        with _cache.lock:
            _cache.private[row.kid] = key
    return key


def _new_kid() -> str:
    # Never a leading "-": a command line (oauthflow_keys retire KID) would take the kid
    # for an option.
    while True:
        kid = secrets.token_urlsafe(12)
        if not kid.startswith("-"):
            return kid


def create_key(alg: str, *, signs_from: datetime | None = None) -> SigningKey:
    """Make and store a key of ``alg``; it signs from ``signs_from`` (by default after
    ``SIGNING_KEY_PUBLISH_DELAY``) and is published at once."""
    if alg not in ALGORITHMS:
        raise ValueError(f"Unsupported signing algorithm {alg!r}.")
    key_type, size = ALGORITHMS[alg]
    kid = _new_kid()
    key = key_type.generate_key(size, parameters={"kid": kid, "alg": alg, "use": "sig"})
    if signs_from is None:
        delay = oauthflow_settings.SIGNING_KEY_PUBLISH_DELAY
        signs_from = timezone.now() + timedelta(seconds=delay)
    return _table().create(
        kid=kid,
        alg=alg,
        public_jwk=dict(key.as_dict(private=False)),
        private_jwk_encrypted=encryption.encrypt(json.dumps(key.as_dict(private=True))),
        signs_from=signs_from,
    )


def retire_key(kid: str, *, unpublish: bool = False) -> SigningKey | None:
    """Stop signing with ``kid`` now; None if there is no such key. Published a while
    longer, unless ``unpublish`` (a compromised key): then it is deleted, and tokens it
    signed stop verifying. Retiring a retired key changes nothing."""
    alias = router.db_for_write(SigningKey)
    with transaction.atomic(using=alias):
        rows = list(_table().select_for_update().order_by("signs_from", "pk"))
        row = next((r for r in rows if r.kid == kid), None)
        if row is None:
            return None
        now = timezone.now()
        if unpublish:
            # The key it took over from must not sign again once it is gone: that one
            # is marked retired as of when it stopped, which keeps it published as long.
            for state in key_states(now, [r for r in rows if r.alg == row.alg]):
                older = state.key
                if older.retired_at is None and state.stopped_at == row.signs_from:
                    older.retired_at = state.stopped_at
                    older.save(update_fields=["retired_at"])
            row.delete()
        elif row.retired_at is None:
            row.retired_at = now
            row.save(update_fields=["retired_at"])
    return row


def prune(now: datetime | None = None) -> list[str]:
    """Delete the keys no longer published; their kids."""
    alias = router.db_for_write(SigningKey)
    with transaction.atomic(using=alias):
        rows = list(_table().select_for_update().order_by("signs_from", "pk"))
        gone = [s.key for s in key_states(now, rows) if not s.published]
        _table().filter(pk__in=[row.pk for row in gone]).delete()
    return [row.kid for row in gone]


def reencrypt_all() -> int:
    """Encrypt every private key under the first encryption key; how many. All or nothing:
    a key that does not decrypt (``KeyDecryptionError``, naming it) changes no row."""
    alias = router.db_for_write(SigningKey)
    with transaction.atomic(using=alias):
        rows = list(_table().select_for_update().order_by("signs_from", "pk"))
        for row in rows:
            try:
                row.private_jwk_encrypted = encryption.reencrypt(row.private_jwk_encrypted)
            except encryption.KeyDecryptionError as exc:
                raise encryption.KeyDecryptionError(
                    f"Signing key {row.kid} ({row.alg}) does not decrypt with any configured "
                    f"key; nothing was re-encrypted. {encryption.CHECK_THE_SETTING}"
                ) from exc
            row.save(update_fields=["private_jwk_encrypted"])
    return len(rows)
