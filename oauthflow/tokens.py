"""Credentials at rest: how tokens, codes and client secrets are made, stored and found.

This module is the one place that knows the at-rest format:

* A credential is ``<prefix>_<43 url-safe characters>``: 256 random bits from the OS
  (``secrets``), behind a short type prefix so secret scanners and people can tell an
  access token from a refresh token or a client secret.
* Only ``sha256(credential)`` is stored, in a unique indexed column. The values are random
  and long, so a fast digest is as good as a slow password hash here: nobody can guess a
  preimage, and lookups stay one indexed query. A stolen database yields no usable token.
* A lookup digests the presented value and asks the database for that digest. Equality
  on a digest leaks nothing useful about the secret through timing, because an attacker
  who does not know the secret cannot choose the digest's bytes.
* What people see (admin, logs, command output) is a hint: the prefix and the last four
  characters. Four characters of 43 leave 232 unknown bits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

#: Type prefixes. Changing one invalidates nothing stored, since the digest covers it.
ACCESS_TOKEN_PREFIX = "ofat"
REFRESH_TOKEN_PREFIX = "ofrt"
AUTHORIZATION_CODE_PREFIX = "ofac"
CLIENT_SECRET_PREFIX = "ofcs"
DEVICE_CODE_PREFIX = "ofdc"
#: Dynamic client registration (oauthflow.registration): what staff hand out to let a
#: client register (RFC 7591 §3), and what a registered client manages itself with
#: (RFC 7592).
INITIAL_ACCESS_TOKEN_PREFIX = "ofit"
REGISTRATION_ACCESS_TOKEN_PREFIX = "ofrg"
_PREFIXES = frozenset(
    {
        ACCESS_TOKEN_PREFIX,
        REFRESH_TOKEN_PREFIX,
        AUTHORIZATION_CODE_PREFIX,
        CLIENT_SECRET_PREFIX,
        DEVICE_CODE_PREFIX,
        INITIAL_ACCESS_TOKEN_PREFIX,
        REGISTRATION_ACCESS_TOKEN_PREFIX,
    }
)

_RANDOM_BYTES = 32  # 256 bits
_HINT_TAIL = 4
#: Longer than anything ``generate`` makes (48 characters), short enough that a hostile
#: value is refused before it is hashed or sent to the database.
MAX_LENGTH = 128
# RFC 6750's b64token without "." and at least 8 characters: any prefix (renaming one
# later does not make old credentials look malformed), and tokens imported from
# django-oauth-toolkit (30 letters and digits by default) are found too. A value with a
# dot is a JWT, for the self-contained formats, never an opaque one.
_SHAPE = re.compile(r"[A-Za-z0-9_~+/-]{8,}=*")


def generate(prefix: str) -> str:
    """A new credential: the prefix, an underscore and 256 random bits, url-safe."""
    return f"{prefix}_{secrets.token_urlsafe(_RANDOM_BYTES)}"


def generate_client_id() -> str:
    """A public client identifier: random so it cannot be enumerated, but not a secret."""
    # Never a leading "-": a command line would take the identifier for an option. Never
    # one of our prefixes: a value with one is refused as a client_id (a swapped secret).
    while True:
        client_id = secrets.token_urlsafe(24)
        if not client_id.startswith("-") and not looks_issued(client_id):
            return client_id


def looks_issued(value: str) -> bool:
    """Whether ``value`` starts like a secret, code or token we issue."""
    prefix, separator, _ = value.partition("_")
    return bool(separator) and prefix in _PREFIXES


def digest(value: str) -> str:
    """The stored form of a credential: hex SHA-256 of its UTF-8 bytes."""
    # surrogatepass: hostile input with lone surrogates still digests, never raises.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def hint(value: str) -> str:
    """A short, non-secret label for a credential, e.g. ``ofat_…x9Qa``.

    A value without one of our type prefixes (a JWT, a secret someone else chose) gets
    only its tail, ``…x9Qa``: the start of a value we did not make may be a secret's.
    """
    prefix, separator, _ = value.partition("_")
    tail = value[-_HINT_TAIL:]
    if separator and prefix in _PREFIXES:
        return f"{prefix}_…{tail}"
    return f"…{tail}"


def is_plausible(value: str) -> bool:
    """Whether ``value`` has the shape of a credential we may have stored.

    A cheap guard, not a check of validity: it lets callers refuse garbage without a
    database query.
    """
    return len(value) <= MAX_LENGTH and _SHAPE.fullmatch(value) is not None


def matches(value: str, stored_digest: str) -> bool:
    """Constant-time check of a presented credential against a stored digest."""
    return hmac.compare_digest(digest(value), stored_digest)
