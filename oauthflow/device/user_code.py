"""User codes (RFC 8628 §6.1): short enough to type, and never stored in clear.

Eight characters from twenty consonants, shown as ``XXXX-XXXX``: 20**8, about 2.6e10
codes (34.6 bits). No vowels, so no words; no digits, so no 0/O or 1/I confusion. Entry
ignores case, spaces and dashes.

Such a code is far too short to be safe behind a plain digest (2.6e10 digests are
minutes of work), so the stored form is an HMAC under the site's ``SECRET_KEY``: a
copy of the table alone does not give the codes of live requests. Guessing one online
is bounded by ``oauthflow.device.guessing``.
"""

from __future__ import annotations

import re
import secrets

from django.utils.crypto import salted_hmac

#: RFC 8628 §6.1's example character set: 20 consonants, case-insensitive.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 8
#: How many codes there are: the odds a guess hits one live code are 1 in this.
SPACE = len(ALPHABET) ** LENGTH

_SEPARATORS = re.compile(r"[\s\-]+")
_SHAPE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
#: Longest entry looked at; anything longer is not a code, however it is spaced.
MAX_ENTRY = 64


def generate() -> str:
    """A new user code, normalised (8 letters, no dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """How a normalised code is shown: ``WDJB-MJHT``."""
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalise(entry: str) -> str | None:
    """The code a person typed, without case, spaces or dashes; None if it cannot be one
    (wrong length or a character outside the alphabet)."""
    if not isinstance(entry, str) or len(entry) > MAX_ENTRY:
        return None
    code = _SEPARATORS.sub("", entry).upper()
    return code if _SHAPE.fullmatch(code) else None


def digest(code: str) -> str:
    """The stored form of a normalised code: HMAC-SHA256 keyed by ``SECRET_KEY``."""
    return salted_hmac("oauthflow.device.user_code", code, algorithm="sha256").hexdigest()
