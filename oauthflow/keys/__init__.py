"""Signing keys: made, stored encrypted, published, rotated and retired.

Keys live in the database (``SigningKey``), so every process and host signs with the same
key; the private half is encrypted at rest (``oauthflow.keys.encryption``). Their life,
per algorithm:

1. **pending**: made by ``oauthflow_keys create``/``rotate``; published at the JWKS
   endpoint at once, signs from ``signs_from`` (``SIGNING_KEY_PUBLISH_DELAY`` later), so
   relying parties that cache the JWKS have it before they meet a token it signed;
2. **signing**: the newest key of its algorithm whose ``signs_from`` has come, unless it
   is retired;
3. **superseded**: a newer key signs now; still published for ``ID_TOKEN_LIFETIME`` after
   that newer key took over, since tokens it signed may still be presented. It never
   signs again, even if the newer key is retired;
4. **retired** (``oauthflow_keys retire``): no longer signs at once; published for
   ``ID_TOKEN_LIFETIME`` after it last signed (``--unpublish``: not even that, for a
   compromised key, which is deleted);
5. **expired**: no longer published; ``oauthflow_keys prune`` deletes it.

"Published for ``ID_TOKEN_LIFETIME``" is that plus :data:`RELOAD_SECONDS`: each process
keeps the keys in memory and reads the table again every :data:`RELOAD_SECONDS` (and at
once after a change in this process), so a rotation is picked up without a restart, and
a process may sign with a key that long after another one retired it. Rows read while a
key change of this process is not yet committed are not kept, so a rolled-back change
leaves no key behind that only this process knows.

When a token must be signed and no key of the algorithm signs (none was made, or the
last was retired), one is made that signs at once.
"""

from __future__ import annotations

from .encryption import KeyDecryptionError, new_encryption_key
from .store import (
    ALGORITHMS,
    RELOAD_SECONDS,
    KeyState,
    create_key,
    forget,
    jwks,
    key_states,
    prune,
    reencrypt_all,
    retire_key,
    signing_key,
    verification_key,
)

__all__ = [
    "ALGORITHMS",
    "RELOAD_SECONDS",
    "KeyDecryptionError",
    "KeyState",
    "create_key",
    "forget",
    "jwks",
    "key_states",
    "new_encryption_key",
    "prune",
    "reencrypt_all",
    "retire_key",
    "signing_key",
    "verification_key",
]
