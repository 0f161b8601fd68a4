"""JWT access tokens (RFC 9068): signed by the provider, verified by an API alone.

A value is a JWS with header ``typ: at+jwt``, signed with the provider's signing keys
(those of the OpenID Connect JWKS), carrying ``iss``, ``sub``, ``aud`` (the resource it is
for, RFC 8707), ``client_id``, ``scope``, ``iat``, ``exp``, ``jti``, and ``auth_time`` and
``acr`` when the user signed in for it. The provider still stores its digest, so
revocation and introspection work as for opaque tokens.

An API verifies one with no database and no network call per request (``verify``):
signature against cached public keys (:mod:`oauthflow.formats.keysource`), ``typ``, an
algorithm from :data:`ALGORITHMS` (never ``none``, never an HMAC: a public key is no
secret), ``iss``, ``aud`` equal to this API's ``RESOURCE``, ``exp`` and ``nbf`` with
:data:`LEEWAY` seconds of clock skew. What only the provider's database knows (a
revocation since) it cannot see, unless a shared token cache says so
(``oauthflow.resource.validation``); hence the short default lifetime.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, ClassVar

from django.utils.functional import SimpleLazyObject
from joserfc import jws, jwt
from joserfc.errors import JoseError

from ..settings import oauthflow_settings
from .base import AccessTokenFormat, GrantedToken

TYP = "at+jwt"
#: Accepted signature algorithms: asymmetric only.
ALGORITHMS = ("RS256", "ES256")
#: Seconds of clock skew allowed on exp and nbf.
LEEWAY = 30
#: Longer values are refused unread (a JWT access token is well under 2 KB).
MAX_LENGTH = 8192
_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_REQUIRED = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")


class JWTAccessToken(GrantedToken):
    """What a verified JWT access token grants. ``user`` is loaded on first use (one
    query, where the provider's database is at hand) or, for an API on another host, a
    :class:`TokenUser` standing for the subject."""

    def __init__(self, claims: dict[str, Any], source: Any) -> None:
        self.claims = claims
        self.scope = str(claims.get("scope", ""))
        self.client_id = str(claims["client_id"])
        self.sub = str(claims["sub"])
        self.jti = str(claims["jti"])
        self.audience = claims["aud"]
        cnf = claims.get("cnf")
        #: The thumbprint of the key the token is bound to (DPoP, RFC 9449 §6.1), or "".
        self.jkt = str(cnf["jkt"]) if isinstance(cnf, dict) and "jkt" in cnf else ""
        self._source = source
        self._user: Any = _UNSET
        # Lazy: a view that never reads the client costs no query for it.
        self.client = SimpleLazyObject(lambda: source.load_client(self))

    @property
    def user(self) -> Any:
        if self._user is _UNSET:
            # Lazy: a view that never reads the user costs no query for it.
            source = self._source
            self._user = (
                None
                if self.is_client_credentials
                else SimpleLazyObject(lambda: source.load_user(self))
            )
        return self._user

    @property
    def is_client_credentials(self) -> bool:
        # RFC 9068 §2.2: a token for the client itself names the client as its subject.
        return self.sub == self.client_id and "auth_time" not in self.claims


_UNSET = object()


class JWTFormat(AccessTokenFormat):
    name = "jwt"
    self_contained: ClassVar[bool] = True
    #: RFC 9068 §2.2: ``aud`` is required; a token for no resource could never be used.
    needs_audience: ClassVar[bool] = True

    def generate(
        self,
        *,
        client: Any,
        user: Any,
        scope: str,
        expires_in: int,
        issuer: str = "",
        audience: list[str] | None = None,
        subject: str | None = None,
        auth_time: int | None = None,
        acr: str | None = None,
        alg: str = "RS256",
        cnf: dict[str, Any] | None = None,
        **context: Any,
    ) -> str:
        from .. import keys  # the provider's keys: only the issuing side needs them

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": subject or client.client_id,
            "aud": audience[0] if audience and len(audience) == 1 else (audience or []),
            "client_id": client.client_id,
            "scope": scope,
            "iat": now,
            "exp": now + expires_in,
            "jti": secrets.token_urlsafe(16),
        }
        if auth_time is not None:
            claims["auth_time"] = auth_time
        if acr:
            claims["acr"] = acr
        if cnf:  # the key the token is bound to (RFC 9449 §6.1)
            claims["cnf"] = cnf
        kid, key = keys.signing_key(alg)
        header = {"alg": alg, "kid": kid, "typ": TYP}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def recognises(self, value: str) -> bool:
        return len(value) <= MAX_LENGTH and _SHAPE.fullmatch(value) is not None

    def verify(self, value: str) -> Any:
        from ..store.validity import Refusal
        from . import keysource

        try:
            header = jws.extract_compact(value.encode()).protected
        except (JoseError, ValueError):
            return Refusal.MALFORMED
        alg, kid = header.get("alg"), header.get("kid")
        typ = str(header.get("typ", "")).lower()
        if alg not in ALGORITHMS or typ not in (TYP, "application/" + TYP):
            return Refusal.MALFORMED
        source = keysource.get()
        key = source.key(kid) if isinstance(kid, str) and len(kid) <= 100 else None
        if key is None or (key.alg and key.alg != alg):
            return Refusal.UNKNOWN
        try:
            claims: dict[str, Any] = dict(jwt.decode(value, key, algorithms=[alg]).claims)
        except (JoseError, ValueError, TypeError):
            return Refusal.UNKNOWN
        return check_claims(claims, source.issuer, _resource(), time.time(), source)


def _resource() -> str | None:
    return oauthflow_settings.RESOURCE


def check_claims(
    claims: dict[str, Any],
    issuer: str | None,
    resource: str | None,
    now: float,
    source: Any,
) -> Any:
    """The claims' verdict: a :class:`JWTAccessToken` or a ``Refusal``."""
    from ..store.validity import Refusal

    if any(name not in claims for name in _REQUIRED) or "events" in claims:
        return Refusal.MALFORMED
    numbers = [claims["exp"], claims["iat"], claims.get("nbf", 0)]
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        return Refusal.MALFORMED
    if not isinstance(claims["sub"], str) or not isinstance(claims["client_id"], str):
        return Refusal.MALFORMED
    cnf = claims.get("cnf")
    if cnf is not None and not (
        isinstance(cnf, dict) and isinstance(cnf.get("jkt"), str) and cnf["jkt"]
    ):
        # Bound in a way this API cannot check (mTLS, say): never as a bearer token.
        return Refusal.MALFORMED
    if issuer is not None and claims["iss"] != issuer:
        return Refusal.UNKNOWN
    audience = claims["aud"]
    audiences = audience if isinstance(audience, list) else [audience]
    if resource is None or resource not in audiences:
        # No RESOURCE: this API has not said who it is, so no audience can be its own.
        return Refusal.UNKNOWN
    if claims["exp"] + LEEWAY <= now:
        return Refusal.EXPIRED
    if claims.get("nbf", 0) - LEEWAY > now or claims["iat"] - LEEWAY > now:
        return Refusal.UNKNOWN
    return JWTAccessToken(claims, source)
