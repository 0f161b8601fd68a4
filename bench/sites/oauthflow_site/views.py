"""The protected views of the oauthflow site, and the hand-written floor they are held to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from oauthflow import tokens
from oauthflow.models import AccessToken, new_family_id

RESOURCE_PROTECTION = (
    "oauthflow.rest_framework.authentication.OAuth2Authentication",
    "oauthflow.rest_framework.permissions.TokenHasScope",
)


def resource_protection() -> tuple[type, type] | None:
    """oauthflow's DRF authentication and permission classes, or None if this checkout
    does not have them yet. Any other import error is a real error and is raised."""
    classes = []
    for dotted in RESOURCE_PROTECTION:
        module_name, _, name = dotted.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None
            raise
        classes.append(getattr(module, name))
    return classes[0], classes[1]


class HandLookupAuthentication(BaseAuthentication):
    """The floor for a database-backed bearer check: digest the token and fetch its row
    (with the user) in the one indexed query no such check can avoid."""

    def authenticate(self, request):
        scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return None
        digest = hashlib.sha256(value.encode()).hexdigest()
        token = AccessToken.objects.select_related("user").filter(digest=digest).first()
        if (
            token is None
            or token.revoked_at is not None
            or token.expires_at <= timezone.now()
            or "read" not in token.scope.split()
        ):
            raise AuthenticationFailed("Invalid token.")
        return token.user, token


class RoundTripAuthentication(BaseAuthentication):
    """The floor of any check that asks the database anything: one ``SELECT 1`` round trip
    and nothing else (no digest, no row, no check). Not a bearer check at all: it bounds
    what one could reach."""

    def authenticate(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return None


@csrf_exempt
def hand_token(request):
    """The floor for a client_credentials token endpoint with one client SELECT and one
    INSERT: the same work as oauthflow's (Basic credentials, the client row by client_id,
    a constant-time digest compare, the grant type checked, a new token's digest and the
    requested scope stored) written by hand on a cursor, with none of the checks or parsing a real
    endpoint owes (RFC 6749 errors, duplicate parameters, character sets, lengths)."""
    return _hand_token(request, jwt_resource=None)


@csrf_exempt
def hand_jwt_token(request):
    """The floor for a client_credentials endpoint issuing a JWT access token (RFC 9068)
    that keeps its digest row, as oauthflow does: ``hand_token``'s two statements (the
    client SELECT also asks, in the same statement, whether the client may have the
    requested resource) and an RS256 signature of the claims oauthflow's JWT format
    signs, with the key decrypted once per process."""
    return _hand_token(request, jwt_resource=settings.JWT_RESOURCE)


def _hand_token(request, *, jwt_resource: str | None):
    if request.method != "POST":
        return JsonResponse({"error": "invalid_request"}, status=405)
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Basic":
        return JsonResponse({"error": "invalid_client"}, status=401)
    try:
        client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
    except ValueError:
        return JsonResponse({"error": "invalid_client"}, status=401)
    with connection.cursor() as cursor:
        if jwt_resource is None:
            cursor.execute(
                "SELECT id, secret_digest, grant_types FROM oauthflow_client "
                "WHERE client_id = %s AND is_active",
                [client_id],
            )
        else:
            cursor.execute(
                "SELECT c.id, c.secret_digest, c.grant_types, EXISTS (SELECT 1 FROM "
                "oauthflow_client_resources AS cr JOIN oauthflow_resource AS r "
                "ON r.id = cr.resource_id WHERE cr.client_id = c.id AND r.is_active "
                "AND r.identifier = %s AND r.token_format = 'jwt') "
                "FROM oauthflow_client AS c WHERE c.client_id = %s AND c.is_active",
                [request.POST.get("resource", ""), client_id],
            )
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[1], tokens.digest(secret)):
        return JsonResponse({"error": "invalid_client"}, status=401)
    scope = request.POST.get("scope", "")
    if request.POST.get("grant_type") != "client_credentials" or "client_credentials" not in row[2]:
        return JsonResponse({"error": "unauthorized_client"}, status=400)
    now = timezone.now()
    lifetime = 3600
    if jwt_resource is None:
        value = tokens.generate(tokens.ACCESS_TOKEN_PREFIX)
    else:
        if not row[3]:
            return JsonResponse({"error": "invalid_target"}, status=400)
        lifetime = 300
        issuer = f"{request.scheme}://{request.get_host()}"  # as oauthflow, ISSUER unset
        value = _sign_jwt(issuer, client_id, scope, request.POST["resource"], lifetime)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO oauthflow_accesstoken (digest, hint, client_id, scope, family, "
            "resource, jkt, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s, %s)",
            [tokens.digest(value), tokens.hint(value), row[0], scope, new_family_id(),
             jwt_resource or "", now, now + timedelta(seconds=lifetime)],
        )  # fmt: skip
    response = JsonResponse(
        {"access_token": value, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
    )
    response["Cache-Control"] = "no-store"
    return response


_keys: dict[str, tuple[str, object]] = {}  # this process's signing key, decrypted once


def _sign_jwt(issuer: str, client_id: str, scope: str, audience: str, lifetime: int) -> str:
    from joserfc import jwt

    from oauthflow import keys

    if "RS256" not in _keys:
        _keys["RS256"] = keys.signing_key("RS256")
    kid, key = _keys["RS256"]
    now = int(time.time())
    claims = {
        "iss": issuer, "sub": client_id, "aud": audience,
        "client_id": client_id, "scope": scope, "iat": now, "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "at+jwt"}, claims, key)


class HandJWTAuthentication(BaseAuthentication):
    """The floor for a JWT access token check with no database (a bound, not a check a
    site should use): the bearer value decoded and its RS256 signature verified with
    joserfc against a public key imported once per process, then ``typ``, ``aud``,
    ``exp`` and the ``read`` scope. No user is loaded: the client's own tokens."""

    _public: dict[str, object] = {}

    def authenticate(self, request):
        from joserfc import jws, jwt
        from joserfc.errors import JoseError

        from oauthflow import keys

        scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return None
        try:
            kid = jws.extract_compact(value.encode()).protected["kid"]
        except (JoseError, ValueError, KeyError, AttributeError):
            raise AuthenticationFailed("Invalid token.") from None
        key = self._public.get(kid)
        if key is None:
            key = self._public[kid] = keys.verification_key(kid)
        try:
            token = jwt.decode(value, key, algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            raise AuthenticationFailed("Invalid token.") from None
        claims = token.claims
        if (
            token.header.get("typ") != "at+jwt"
            or claims.get("aud") != settings.JWT_RESOURCE
            or claims.get("exp", 0) <= time.time()
            or "read" not in str(claims.get("scope", "")).split()
        ):
            raise AuthenticationFailed("Invalid token.")
        return None, token
