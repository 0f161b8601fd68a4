"""The ID token (Core §2, §3.1.3.6, §12.2): a grant extension for authorization_code,
refresh_token and (with ``oauthflow.device``) the device code grant that adds
``id_token`` to a token response carrying the ``openid`` scope.

It reads the authorization's ``Authentication`` row (one query) for the subject, nonce,
sign-in time and requested claims, and signs with the key ``oauthflow.keys`` says signs
the client's algorithm now. A refresh gets a fresh ID token with the same ``sub``, ``aud``
and ``auth_time`` and no ``nonce``. Everything happens inside the token request's
transaction: if the ID token cannot be made, nothing is issued.
"""

from __future__ import annotations

import time
from typing import Any, cast

from authlib.oauth2.rfc6749 import InvalidGrantError
from authlib.oidc.core.util import create_half_hash
from django.db import connections, models, router
from joserfc import jwt

from .. import keys
from ..models import Authentication, GrantType
from ..settings import oauthflow_settings
from ..store import lookups
from . import authentication
from .claims import user_claims


class IDTokenExtension:
    """Registered for the authorization_code, refresh_token and device code grants."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.add_id_token)
        if grant.GRANT_TYPE == GrantType.AUTHORIZATION_CODE:
            grant.register_hook("after_save_authorization_code", authentication.record)

    def add_id_token(self, grant: Any, response: tuple[int, dict[str, Any], Any]) -> None:
        _status, token, _headers = response
        request = grant.request
        # What the user granted (a refresh may ask for less, and a code exchange has no
        # say): a resource's narrower scope list (RFC 8707) shapes the access token, not
        # the sign-in. A refresh may narrow it; the first exchange (a code, a device
        # code) has no say.
        first = grant.GRANT_TYPE != GrantType.REFRESH_TOKEN
        asked = (
            request.consumed.scope if first else (request.payload.scope or request.consumed.scope)
        )
        if "openid" not in str(asked).split():
            return
        record = find_record(request.consumed.family)
        if record is None:
            raise InvalidGrantError("This grant has no OpenID Connect sign-in.")
        # Already loaded by the request: no query for them.
        record.client, record.user = request.client, request.user
        token["id_token"] = sign(
            id_token_claims(
                record,
                issuer=grant.server.issuer(request.django_request),
                access_token=token["access_token"],
                scope=str(asked),
                nonce=first,
                alg=request.client.id_token_signed_response_alg,
            ),
            request.client.id_token_signed_response_alg,
        )


def access_token_claims(request: Any) -> dict[str, Any]:
    """For a JWT access token issued from a sign-in (RFC 9068 §2.2.1): when the user
    authenticated, and how."""
    consumed = getattr(request, "consumed", None)
    record = find_record(consumed.family) if consumed is not None else None
    if record is None:
        return {}
    claims: dict[str, Any] = {}
    if record.auth_time is not None:
        claims["auth_time"] = int(record.auth_time.timestamp())
    if record.acr:
        claims["acr"] = record.acr
    return claims


def find_record(family: Any) -> Authentication | None:
    """The sign-in behind an authorization: one prepared SELECT on the unique family."""
    connection = connections[router.db_for_read(Authentication)]
    field = cast(models.UUIDField, Authentication._meta.get_field("family"))
    value = field.get_db_prep_value(family, connection)
    return lookups.authentication.get(value)


def id_token_claims(
    record: Authentication,
    *,
    issuer: str,
    access_token: str | None,
    scope: str,
    nonce: bool,
    alg: str,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = user_claims(record.user, scope, record.claims.get("id_token"))
    claims.update(
        {
            "iss": issuer,
            "sub": record.sub,
            "aud": record.client.client_id,
            "exp": now + oauthflow_settings.ID_TOKEN_LIFETIME,
            "iat": now,
        }
    )
    if record.auth_time is not None:
        claims["auth_time"] = int(record.auth_time.timestamp())
    if nonce and record.nonce:
        claims["nonce"] = record.nonce
    if record.acr:
        claims["acr"] = record.acr
    if record.amr:
        claims["amr"] = record.amr.split()
    if record.sid:
        claims["sid"] = record.sid
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode()
    return claims


def sign(claims: dict[str, Any], alg: str, *, typ: str = "JWT") -> str:
    kid, key = keys.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": kid, "typ": typ}, claims, key, algorithms=[alg])
