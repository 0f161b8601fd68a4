"""Server-provided nonces (RFC 9449 §8, §9), made without storage.

A nonce names a time window and carries an HMAC of it under ``SECRET_KEY``, so every
process and every API host with the same key makes and accepts the same ones. It is
accepted during its window and the next (``WINDOW`` seconds each): a client that got one
may use it for at least ``WINDOW`` seconds.
"""

from __future__ import annotations

import time

from django.utils.crypto import constant_time_compare, salted_hmac

#: Seconds each nonce is current for.
WINDOW = 300
_SALT = "oauthflow.dpop.nonce"


def _for(window: int) -> str:
    mac = salted_hmac(_SALT, str(window), algorithm="sha256").hexdigest()[:32]
    return f"{window}.{mac}"


def current(now: float | None = None) -> str:
    """The nonce to hand out now."""
    return _for(int((now or time.time()) // WINDOW))


def is_valid(value: object, now: float | None = None) -> bool:
    """Whether ``value`` is this window's nonce or the previous one's."""
    if not isinstance(value, str) or len(value) > 64:
        return False
    window_text, _, _mac = value.partition(".")
    if not window_text.isdigit():
        return False
    window = int(window_text)
    this = int((now or time.time()) // WINDOW)
    return window in (this, this - 1) and constant_time_compare(value, _for(window))
