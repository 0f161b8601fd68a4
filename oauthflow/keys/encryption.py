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

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..settings import oauthflow_settings

_DEVELOPMENT_SALT = b"oauthflow.keys.development-encryption-key"


class KeyDecryptionError(Exception):
    """A stored private key does not decrypt with any configured encryption key."""


def new_encryption_key() -> str:
    """A fresh value for ``SIGNING_KEY_ENCRYPTION_KEYS``."""
    return Fernet.generate_key().decode()


def configured_keys() -> list[str]:
    return [str(k) for k in oauthflow_settings.SIGNING_KEY_ENCRYPTION_KEYS]


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
    except ValueError as exc:
        raise ImproperlyConfigured(
            "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] holds a value that is not a Fernet key."
        ) from exc


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError(
            "A signing key does not decrypt with SIGNING_KEY_ENCRYPTION_KEYS: was a key "
            "removed from the setting before `oauthflow_keys reencrypt` ran?"
        ) from exc


def reencrypt(token: str) -> str:
    """``token`` encrypted under the first configured key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError("A signing key does not decrypt with any configured key.") from exc
