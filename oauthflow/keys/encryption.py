"""Encryption at rest of the private signing keys (Fernet, from ``cryptography``).

The keys come from ``OAUTHFLOW["SIGNING_KEY_ENCRYPTION_KEYS"]``: the first encrypts, every
one decrypts (``MultiFernet``), so the encryption key itself can be rotated. With the
setting empty and ``DEBUG`` on, a key derived from ``SECRET_KEY`` stands in, so a
development site works out of the box; with ``DEBUG`` off that fallback is refused
(system check ``oauthflow.E011``), so production never leans on ``SECRET_KEY`` by accident.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..settings import oauthflow_settings

_DEVELOPMENT_SALT = b"oauthflow.keys.development-encryption-key"

#: What every message about a key that does not decrypt ends with.
CHECK_THE_SETTING = (
    "Check OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS']: every key that encrypted a signing "
    "key must stay in it (after the new first one) until `manage.py oauthflow_keys "
    "reencrypt` has run."
)


class KeyDecryptionError(Exception):
    """A stored private key does not decrypt with any configured encryption key."""


def new_encryption_key() -> str:
    """A fresh value for ``SIGNING_KEY_ENCRYPTION_KEYS``."""
    return Fernet.generate_key().decode()


def as_text(value: Any) -> str | None:
    """A setting's entry as text (a key may be given as ``bytes``, as
    ``Fernet.generate_key()`` returns it), or None when it is neither."""
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


def is_fernet_key(value: Any) -> bool:
    """Whether ``value`` is usable as a Fernet key (32 bytes, url-safe base64)."""
    text = as_text(value)
    if text is None:
        return False
    try:
        Fernet(text.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    return True


def configured_keys() -> list[str]:
    # An entry that is neither text nor bytes is kept as its repr: Fernet refuses it below,
    # and the system check (oauthflow.E012) has named it already.
    return [as_text(k) or repr(k) for k in oauthflow_settings.SIGNING_KEY_ENCRYPTION_KEYS]


def _fernet() -> MultiFernet:
    keys = configured_keys()
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] is empty: set it to protect the "
                "signing keys (manage.py oauthflow_keys new-encryption-key prints a key)."
            )
        # Development only (warning oauthflow.W008): stable for as long as SECRET_KEY is.
        digest = hashlib.sha256(_DEVELOPMENT_SALT + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] holds a value that is not a Fernet key "
            "(manage.py oauthflow_keys new-encryption-key prints one)."
        ) from exc


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError(
            f"A signing key does not decrypt with any configured key. {CHECK_THE_SETTING}"
        ) from exc


def reencrypt(token: str) -> str:
    """``token`` encrypted under the first configured key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError(
            f"A signing key does not decrypt with any configured key. {CHECK_THE_SETTING}"
        ) from exc
