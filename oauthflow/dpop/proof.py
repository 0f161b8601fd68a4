"""Checking a DPoP proof JWT (RFC 9449 §4.3), with joserfc.

:func:`verify` runs every check of §4.3 in order and returns the proof's key thumbprint
(RFC 7638, the ``jkt`` tokens are bound to), or raises :class:`ProofError` saying which
failed. The key comes from the proof's own header: an asymmetric public key of a type the
algorithm uses, never one with private members. The proof is used once (``replay``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from ..settings import oauthflow_settings
from . import nonce, replay

#: Accepted proof algorithms: asymmetric only (§4.3 step 5), what
#: ``dpop_signing_alg_values_supported`` advertises.
ALGORITHMS = ("ES256", "ES384", "PS256", "RS256")
_KEY_TYPES = {"EC": ("ES256", "ES384"), "RSA": ("PS256", "RS256")}


class _Registry(jws.JWSRegistry):
    # The proof's header holds its public key: an RSA one is over joserfc's default
    # 512 bytes. The claims are a few short strings.
    max_header_length = 2048
    max_payload_length = 2048


_REGISTRY = _Registry(algorithms=list(ALGORITHMS))
#: Members only a private (or symmetric) key has (RFC 7518 §6).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: Longer values are refused unread: a proof with an RSA-4096 key is under 2 KB.
MAX_LENGTH = 4096
#: Seconds a proof's iat may lie in the future (clock skew).
FUTURE_LEEWAY = 30
#: A SHA-256 JWK thumbprint, base64url without padding (RFC 7638): what ``dpop_jkt`` is.
THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
_MIN_RSA_BITS = 2048
_MAX_RSA_BITS = 4096
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class ProofError(Exception):
    """The proof is refused; the message says why, for ``error_description``."""


class NonceRequired(ProofError):
    """The proof needs a fresh server nonce (``use_dpop_nonce``)."""


class WrongKey(ProofError):
    """A good proof, made with another key than the one required."""


@dataclass(frozen=True)
class Proof:
    jkt: str
    jti: str
    iat: int


def ath(access_token: str) -> str:
    """The ``ath`` of an access token: base64url SHA-256 of its ASCII, unpadded."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(
    value: str | None,
    *,
    method: str,
    urls: list[str],
    access_token: str | None = None,
    expected_jkt: str | None = None,
    now: float | None = None,
) -> Proof:
    """Check the proof ``value`` sent with a ``method`` request to one of ``urls``; with
    ``access_token``, also that it covers that token (``ath``, at a resource); with
    ``expected_jkt``, that it is made with that key (:class:`WrongKey` if not). The proof
    is recorded as used only once every check has passed."""
    if not isinstance(value, str) or not value:
        raise ProofError("A DPoP proof is required.")
    # Several DPoP headers arrive joined with commas, which no JWS contains (§4.3 step 1).
    if len(value) > MAX_LENGTH or not _SHAPE.fullmatch(value):
        raise ProofError("The DPoP proof is not one well-formed JWT.")
    try:
        header = jws.extract_compact(value.encode(), registry=_REGISTRY).headers()
    except (JoseError, ValueError, TypeError):
        raise ProofError("The DPoP proof is not one well-formed JWT.") from None
    if header.get("typ") != "dpop+jwt":
        raise ProofError("The DPoP proof's typ is not dpop+jwt.")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ProofError("The DPoP proof's alg is not one of " + " ".join(ALGORITHMS) + ".")
    key = _public_key(header.get("jwk"), str(alg))
    try:
        claims = jwt.decode(value, key, algorithms=[str(alg)], registry=_REGISTRY).claims
    except (JoseError, ValueError, TypeError):
        raise ProofError("The DPoP proof's signature does not verify with its jwk.") from None
    jti, iat = _required(claims)
    if claims["htm"] != method:
        raise ProofError("The DPoP proof is for another HTTP method (htm).")
    expected = {normalise(url) for url in urls}
    if normalise(claims["htu"]) not in expected - {None}:
        raise ProofError("The DPoP proof is for another URL (htu).")
    now = time.time() if now is None else now
    max_age = oauthflow_settings.DPOP_PROOF_MAX_AGE
    if iat < now - max_age or iat > now + FUTURE_LEEWAY:
        raise ProofError("The DPoP proof's iat is too old or in the future.")
    if access_token is not None:
        sent = claims.get("ath")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, ath(access_token)):
            raise ProofError("The DPoP proof does not cover this access token (ath).")
    if oauthflow_settings.DPOP_NONCES and not nonce.is_valid(claims.get("nonce"), now):
        raise NonceRequired("The DPoP proof needs the server's current nonce.")
    jkt = key.thumbprint()
    if expected_jkt is not None and not hmac.compare_digest(jkt, expected_jkt):
        raise WrongKey("The DPoP proof is not made with the key required.")
    try:
        # As long as another host, its clock up to FUTURE_LEEWAY behind, could accept it.
        first = replay.claim(jkt, jti, max_age + 2 * FUTURE_LEEWAY)
    except replay.StoreUnavailable:
        raise ProofError("The DPoP proof could not be checked for reuse; try again.") from None
    if not first:
        raise ProofError("The DPoP proof was already used (jti).")
    return Proof(jkt=jkt, jti=jti, iat=iat)


def _public_key(jwk: Any, alg: str) -> Any:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        raise ProofError("The DPoP proof has no jwk.")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise ProofError("The DPoP proof's jwk holds a private or symmetric key.")
    if alg not in _KEY_TYPES.get(jwk["kty"], ()):
        raise ProofError("The DPoP proof's jwk is not a key for its alg.")
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProofError("The DPoP proof's jwk is not a valid public key.") from None
    if key.is_private:
        raise ProofError("The DPoP proof's jwk holds a private or symmetric key.")
    if jwk["kty"] == "RSA":
        size = getattr(key.raw_value, "key_size", 0)
        exponent = getattr(getattr(key.raw_value, "public_numbers", lambda: None)(), "e", 0)
        # A huge exponent or modulus makes every verification slow on purpose.
        if not _MIN_RSA_BITS <= size <= _MAX_RSA_BITS or exponent != 65537:
            raise ProofError(
                "The DPoP proof's RSA key must have 2048 to 4096 bits and exponent 65537."
            )
    return key


def _required(claims: dict[str, Any]) -> tuple[str, int]:
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise ProofError("The DPoP proof has no usable jti.")
    if not isinstance(htm, str) or not isinstance(htu, str):
        raise ProofError("The DPoP proof has no htm or htu.")
    # JSON allows NaN and 1e400 (infinite) where a number goes: neither is a time.
    if isinstance(iat, bool) or not isinstance(iat, (int, float)) or not math.isfinite(iat):
        raise ProofError("The DPoP proof has no iat.")
    return jti, int(iat)


def request_url(request: Any) -> str:
    """The URL a request reached, as a client names it in ``htu``: scheme, the Host the
    site accepts (``ALLOWED_HOSTS``), and the path percent-encoded again. Not
    ``build_absolute_uri(path)``, which takes a path starting with ``//`` for a host."""
    from django.utils.encoding import escape_uri_path

    return f"{request.scheme}://{request.get_host()}{escape_uri_path(request.path)}"


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def normalise(uri: Any) -> str | None:
    """``uri`` without query and fragment, normalised as RFC 3986 §6.2.2 and §6.2.3 say
    (case of scheme and host, default port, percent-encoding, empty path); None if it is
    not an absolute http(s) URI."""
    if not isinstance(uri, str) or len(uri) > 2048:
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if port == {"http": 80, "https": 443}[scheme]:
        port = None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = _PERCENT.sub(_percent, parts.path) or "/"
    return f"{scheme}://{netloc}{path}"


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()
