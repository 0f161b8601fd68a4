"""The protected views of the oauthflow site, and the hand-written floor they are held to."""

from __future__ import annotations

import hashlib
import importlib

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from oauthflow.models import AccessToken

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
