"""Checking a client assertion (RFC 7523 §3, OpenID Connect Core §9).

A JWT the client signs with its private key and sends as ``client_assertion``:

* one compact JWS, at most :data:`MAX_LENGTH` long, its ``alg`` on the allow-list
  (``CLIENT_ASSERTION_SIGNING_ALGS``: asymmetric only), no ``crit`` header;
* ``iss`` and ``sub`` both the client's ID (and ``client_id``, when sent, the same);
* the signature verifies with one of the client's registered keys (``kid``, when sent,
  picks it);
* ``aud`` is one value naming this server: its issuer identifier or its token endpoint
  (RFC 7523 §3 item 3), or at the PAR endpoint that endpoint's URL (RFC 9126 §2);
* ``exp`` in the future, and at most ``CLIENT_ASSERTION_MAX_LIFETIME`` ahead, so an
  assertion is short-lived and its ``jti`` need only be remembered that long; ``nbf``
  and ``iat``, when sent, not in the future;
* ``jti`` never seen before for this client, in a store every process shares; recorded
  only once everything else has passed, so a bad assertion cannot burn a good ``jti``.

Each failure raises :class:`AssertionRefused` with a sentence for the log, never for
the client: the client gets ``invalid_client`` whatever the reason (RFC 6749 §5.2).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable
from typing import Any

from django.views.decorators.debug import sensitive_variables
from joserfc import jws, jwt
from joserfc.errors import JoseError

from ..models import Client
from ..settings import oauthflow_settings
from ..store.replay import StoreUnavailable
from . import keys, replay

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: What oauthflow can verify; ``CLIENT_ASSERTION_SIGNING_ALGS`` picks from these.
SUPPORTED_ALGORITHMS = ("ES256", "ES384", "PS256", "RS256")
_KEY_TYPES = {"ES256": "EC", "ES384": "EC", "PS256": "RSA", "RS256": "RSA"}
#: An assertion with a 4096-bit RSA signature is under 1.5 KB.
MAX_LENGTH = 8192
#: Seconds of clock difference tolerated on exp, nbf and iat.
LEEWAY = 30
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class _Registry(jws.JWSRegistry):
    max_header_length = 1024
    max_payload_length = 4096


_REGISTRY = _Registry(algorithms=list(SUPPORTED_ALGORITHMS))


class AssertionRefused(Exception):
    """Why an assertion does not authenticate its client (for the log)."""


def algorithms() -> list[str]:
    """The allow-list: the setting's algorithms that oauthflow supports."""
    return [a for a in oauthflow_settings.CLIENT_ASSERTION_SIGNING_ALGS if a in _KEY_TYPES]


@sensitive_variables("value")
def unverified_client_id(value: Any) -> str:
    """The client an assertion claims to come from (its ``sub``), read without checking
    anything else: which client's keys to verify it with."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH or not _SHAPE.fullmatch(value):
        raise AssertionRefused("The client assertion is not one well-formed JWT.")
    try:
        payload = json.loads(jws.extract_compact(value.encode(), registry=_REGISTRY).payload)
    except (JoseError, ValueError, TypeError):
        raise AssertionRefused("The client assertion is not one well-formed JWT.") from None
    if not isinstance(payload, dict):
        raise AssertionRefused("The client assertion's payload is not a JSON object.")
    iss, sub = payload.get("iss"), payload.get("sub")
    if not isinstance(sub, str) or not sub or iss != sub:
        raise AssertionRefused("The client assertion's iss and sub are not the client's ID.")
    # Decoded from base64, so the form's own checks never saw it: the same rule as a
    # client_id sent in the clear, before it goes near the database.
    if len(sub) > 100 or not sub.isascii() or not sub.isprintable():
        raise AssertionRefused("The client assertion's sub is not a client ID.")
    return sub


@sensitive_variables("value")
def verify(
    value: str, client: Client, *, audiences: Iterable[str], now: float | None = None
) -> None:
    """Check assertion ``value`` for ``client`` (found by :func:`unverified_client_id`)
    as the module says; raises :class:`AssertionRefused`."""
    header = jws.extract_compact(value.encode(), registry=_REGISTRY).headers()
    alg = header.get("alg")
    if alg not in algorithms():
        raise AssertionRefused("The client assertion's alg is not allowed.")
    if "crit" in header:
        raise AssertionRefused("The client assertion has critical header parameters.")
    # Another kind of JWT (a DPoP proof, an access token) is not a client assertion.
    if header.get("typ") not in (None, "JWT", "client-authentication+jwt"):
        raise AssertionRefused("The client assertion's typ is not a client assertion's.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AssertionRefused("The client assertion's kid is not a string.")
    claims = _verified_claims(value, client, str(alg), kid)
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise AssertionRefused("The client assertion's iss and sub are not the client's ID.")
    # One audience, this server: a list naming others besides is how an assertion
    # meant for another server is made to fit this one (audience injection).
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if not isinstance(aud, str) or aud not in set(audiences):
        raise AssertionRefused("The client assertion is for another audience.")
    now = time.time() if now is None else now
    exp = _time(claims, "exp", required=True) or 0.0
    if exp <= now - LEEWAY:
        raise AssertionRefused("The client assertion has expired.")
    if exp > now + oauthflow_settings.CLIENT_ASSERTION_MAX_LIFETIME + LEEWAY:
        raise AssertionRefused("The client assertion's exp is too far ahead.")
    for name in ("nbf", "iat"):
        moment = _time(claims, name, required=False)
        if moment is not None and moment > now + LEEWAY:
            raise AssertionRefused(f"The client assertion's {name} is in the future.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise AssertionRefused("The client assertion has no usable jti.")
    try:
        # Until it expires, with room for a host whose clock is LEEWAY behind.
        first = replay.claim(client.client_id, jti, int(exp - now) + 2 * LEEWAY)
    except StoreUnavailable:
        raise AssertionRefused("The replay store could not be asked.") from None
    if not first:
        raise AssertionRefused("The client assertion was used before (its jti).")


def _verified_claims(value: str, client: Client, alg: str, kid: str | None) -> dict[str, Any]:
    for key in keys.candidates(client, kid):
        if key.key_type != _KEY_TYPES[alg]:
            continue
        try:
            claims = jwt.decode(value, key, algorithms=[alg], registry=_REGISTRY).claims
        except (JoseError, ValueError, TypeError):
            continue
        return dict(claims)
    raise AssertionRefused("The client assertion's signature does not verify with its keys.")


def _time(claims: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    # JSON allows NaN, 1e400 (infinite) and 10**400 (too large for a float) where a
    # number goes: none is a time.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssertionRefused(f"The client assertion's {name} is not a time.")
    if isinstance(value, int) and abs(value) > 2**53:
        raise AssertionRefused(f"The client assertion's {name} is not a time.")
    if not math.isfinite(value):
        raise AssertionRefused(f"The client assertion's {name} is not a time.")
    return float(value)
