"""The protected views of the oauthflow site, and the hand-written floor they are held to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
from datetime import timedelta

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
        cursor.execute(
            "SELECT id, secret_digest, grant_types FROM oauthflow_client "
            "WHERE client_id = %s AND is_active",
            [client_id],
        )
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[1], tokens.digest(secret)):
        return JsonResponse({"error": "invalid_client"}, status=401)
    scope = request.POST.get("scope", "")
    if request.POST.get("grant_type") != "client_credentials" or "client_credentials" not in row[2]:
        return JsonResponse({"error": "unauthorized_client"}, status=400)
    value = tokens.generate(tokens.ACCESS_TOKEN_PREFIX)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO oauthflow_accesstoken (digest, hint, client_id, scope, family, "
            "resource, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s)",
            [tokens.digest(value), tokens.hint(value), row[0], scope, new_family_id(), now,
             now + timedelta(seconds=3600)],
        )  # fmt: skip
    response = JsonResponse(
        {"access_token": value, "token_type": "Bearer", "expires_in": 3600, "scope": scope}
    )
    response["Cache-Control"] = "no-store"
    return response
