"""The signing keys' life cycle and the in-process copy of the table (see the package)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from joserfc.jwk import ECKey, RSAKey

from ..models import SigningKey
from ..settings import oauthflow_settings
from . import encryption

#: How often a process reads the key table again, at most.
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
    """Where a key is in its life, and until when it is published (None: indefinitely)."""

    key: SigningKey
    state: str
    published_until: datetime | None

    @property
    def published(self) -> bool:
        return self.state != EXPIRED


class _Cache:
    """The rows, read at most every RELOAD_SECONDS, and the private keys decrypted so far."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[SigningKey] | None = None
        self.loaded_at = 0.0
        self.private: dict[str, Any] = {}

    def get_rows(self) -> list[SigningKey]:
        with self.lock:
            if self.rows is None or time.monotonic() - self.loaded_at > RELOAD_SECONDS:
                self.rows = list(SigningKey.objects.order_by("signs_from", "pk"))
                self.loaded_at = time.monotonic()
            return self.rows

    def clear(self) -> None:
        with self.lock:
            self.rows = None
            self.private.clear()


_cache = _Cache()


def forget(**kwargs: Any) -> None:
    """Drop this process's copy: the next use reads the table (after any change here)."""
    _cache.clear()


post_save.connect(forget, sender=SigningKey, dispatch_uid="oauthflow.keys.forget.save")
post_delete.connect(forget, sender=SigningKey, dispatch_uid="oauthflow.keys.forget.delete")


def _signed_lifetime() -> timedelta:
    """How long something a key signed stays valid: how long it must stay published."""
    return timedelta(seconds=oauthflow_settings.ID_TOKEN_LIFETIME)


def key_states(now: datetime | None = None, rows: list[SigningKey] | None = None) -> list[KeyState]:
    """Every key with its state, oldest first."""
    now = now or timezone.now()
    rows = _cache.get_rows() if rows is None else rows
    lifetime = _signed_lifetime()
    states: list[KeyState] = []
    for alg in sorted({row.alg for row in rows}):
        live = [r for r in rows if r.alg == alg and r.retired_at is None]
        started = [r for r in live if r.signs_from <= now]
        # The newest started key signs; each older one was superseded when the next
        # started key began to sign.
        took_over = {r.pk: nxt.signs_from for r, nxt in zip(started, started[1:])}
        for row in (r for r in rows if r.alg == alg):
            if row.retired_at is not None:
                until = row.retired_at + lifetime
                states.append(KeyState(row, RETIRED if until > now else EXPIRED, until))
            elif row.signs_from > now:
                states.append(KeyState(row, PENDING, None))
            elif row.pk not in took_over:
                states.append(KeyState(row, SIGNING, None))
            else:
                until = took_over[row.pk] + lifetime
                states.append(KeyState(row, SUPERSEDED if until > now else EXPIRED, until))
    return sorted(states, key=lambda s: (s.key.signs_from, s.key.pk))


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
    """(kid, private key) of the key that signs ``alg`` now; one is made if none exists."""
    if alg not in ALGORITHMS:
        raise ValueError(f"Unsupported signing algorithm {alg!r}.")
    current = [s.key for s in key_states() if s.state == SIGNING and s.key.alg == alg]
    if not current:
        # No key of this algorithm signs: none can be in a cached JWKS, so the new one
        # may sign at once.
        current = [create_key(alg, signs_from=timezone.now())]
    row = current[-1]
    return row.kid, _private(row)


def verification_key(kid: str) -> Any | None:
    """The public key published under ``kid``, or None."""
    for state in key_states():
        if state.published and state.key.kid == kid:
            return ALGORITHMS[state.key.alg][0].import_key(_public(state.key))
    return None


def _private(row: SigningKey) -> Any:
    with _cache.lock:
        key = _cache.private.get(row.kid)
    if key is None:
        data = json.loads(encryption.decrypt(row.private_jwk_encrypted))
        key = ALGORITHMS[row.alg][0].import_key(data)
        with _cache.lock:
            _cache.private[row.kid] = key
    return key


def create_key(alg: str, *, signs_from: datetime | None = None) -> SigningKey:
    """Make and store a key of ``alg``; it signs from ``signs_from`` (by default after
    ``SIGNING_KEY_PUBLISH_DELAY``) and is published at once."""
    if alg not in ALGORITHMS:
        raise ValueError(f"Unsupported signing algorithm {alg!r}.")
    key_type, size = ALGORITHMS[alg]
    kid = secrets.token_urlsafe(12)
    key = key_type.generate_key(size, parameters={"kid": kid, "alg": alg, "use": "sig"})
    if signs_from is None:
        delay = oauthflow_settings.SIGNING_KEY_PUBLISH_DELAY
        signs_from = timezone.now() + timedelta(seconds=delay)
    return SigningKey.objects.create(
        kid=kid,
        alg=alg,
        public_jwk=dict(key.as_dict(private=False)),
        private_jwk_encrypted=encryption.encrypt(json.dumps(key.as_dict(private=True))),
        signs_from=signs_from,
    )


def retire_key(kid: str, *, unpublish: bool = False) -> SigningKey | None:
    """Stop signing with ``kid`` now. Published a while longer, unless ``unpublish``
    (a compromised key): then it is deleted, and tokens it signed stop verifying."""
    row = SigningKey.objects.filter(kid=kid).first()
    if row is None:
        return None
    if unpublish:
        row.delete()
    elif row.retired_at is None:
        row.retired_at = timezone.now()
        row.save(update_fields=["retired_at"])
    return row


def prune(now: datetime | None = None) -> list[str]:
    """Delete the keys no longer published; their kids."""
    rows = list(SigningKey.objects.order_by("signs_from", "pk"))
    gone = [s.key for s in key_states(now, rows) if not s.published]
    SigningKey.objects.filter(pk__in=[row.pk for row in gone]).delete()
    forget()
    return [row.kid for row in gone]


def reencrypt_all() -> int:
    """Encrypt every private key under the first encryption key; how many."""
    rows = list(SigningKey.objects.all())
    for row in rows:
        row.private_jwk_encrypted = encryption.reencrypt(row.private_jwk_encrypted)
        row.save(update_fields=["private_jwk_encrypted"])
    return len(rows)
