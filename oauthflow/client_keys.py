"""A client's public keys (its ``jwks``, RFC 7591 §2): what may be registered.

Only public signing keys a verifier can rely on: EC on P-256 or P-384, and RSA
of 2048 to 4096 bits with the usual exponent. No private or symmetric member ever: a
key set holding one was pasted by mistake, and storing it would put a secret in the
database in clear. Parsing is joserfc's; this module only says no.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

#: The members of a private or symmetric JWK (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
CURVES = frozenset({"P-256", "P-384"})
RSA_BITS = (2048, 4096)
#: Enough for a handful of RSA keys; a larger set is a mistake or an attack on memory.
MAX_JWKS_LENGTH = 20_000


class InvalidKeySet(ValueError):
    """Why a JWK Set cannot be a client's keys (a sentence for the admin or a client)."""


def parse_jwks(value: str | dict[str, Any]) -> KeySet:
    """The key set in ``value`` (JSON text or the decoded object), checked as the module
    says; raises :class:`InvalidKeySet`."""
    if isinstance(value, str):
        if len(value) > MAX_JWKS_LENGTH:
            raise InvalidKeySet("The JWK Set is too large.")
        try:
            value = json.loads(value)
        except ValueError as error:
            raise InvalidKeySet("The JWK Set is not valid JSON.") from error
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise InvalidKeySet('A JWK Set is a JSON object with a "keys" list.')
    keys = value["keys"]
    if not keys:
        raise InvalidKeySet("The JWK Set holds no key.")
    if len(keys) > 10:
        raise InvalidKeySet("A client may register at most 10 keys.")
    kids: set[str] = set()
    for jwk in keys:
        _check_jwk(jwk)
        kid = jwk.get("kid")
        if kid is not None:
            if kid in kids:
                raise InvalidKeySet("Two keys share a key ID.")
            kids.add(kid)
    try:
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidKeySet("A key in the JWK Set cannot be read.") from error


def _check_jwk(jwk: Any) -> None:
    if not isinstance(jwk, dict):
        raise InvalidKeySet("Each key is a JSON object.")
    if PRIVATE_MEMBERS & set(jwk):
        raise InvalidKeySet(
            "The JWK Set holds a private or symmetric key: register public keys only."
        )
    if jwk.get("use") not in (None, "sig"):
        raise InvalidKeySet('A key for client authentication has "use": "sig" or none.')
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > 200):
        raise InvalidKeySet("A key ID is a non-empty string.")
    kty = jwk.get("kty")
    try:
        if kty == "EC":
            if jwk.get("crv") not in CURVES:
                raise InvalidKeySet("An EC key uses P-256 or P-384.")
            ECKey.import_key(jwk)
        elif kty == "RSA":
            with warnings.catch_warnings():  # joserfc warns of small keys: refused below
                warnings.simplefilter("ignore")
                raw = RSAKey.import_key(jwk).raw_value
            bits = getattr(raw, "key_size", 0)
            exponent = getattr(getattr(raw, "public_numbers", lambda: None)(), "e", 0)
            # A huge modulus or exponent makes every verification slow on purpose.
            if not RSA_BITS[0] <= bits <= RSA_BITS[1] or exponent != 65537:
                raise InvalidKeySet("An RSA key has 2048 to 4096 bits and exponent 65537.")
        else:
            raise InvalidKeySet("Only EC and RSA keys are accepted.")
    except InvalidKeySet:
        raise
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidKeySet("A key in the JWK Set cannot be read.") from error
