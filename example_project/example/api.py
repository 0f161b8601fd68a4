"""The API the example site protects with oauthflow's bearer tokens.

Only oauthflow's DRF classes guard it: ``OAuth2Authentication`` reads the bearer token
(and answers 401 with ``WWW-Authenticate: Bearer … error="invalid_token"`` for a
revoked or expired one), ``TokenHasScope`` checks ``required_scopes``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauthflow.rest_framework.authentication import OAuth2Authentication
from oauthflow.rest_framework.permissions import TokenHasScope


class IssuedToAUser(BasePermission):
    """A client-credentials token acts for the client itself: there is no user to show."""

    message = "This resource needs a token a user authorized, not one a client got for itself."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


class MeView(APIView):
    """GET /api/me/: the profile of the user who authorized the token (scope ``read``)."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope, IssuedToAUser]
    required_scopes = ["read"]
    # JSON only: the browsable API's pages use inline script, which the site's CSP forbids.
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        user = request.user
        profile = {
            "username": user.get_username(),
            "name": user.get_full_name(),
            "email": user.email,
            "date_joined": user.date_joined.date().isoformat(),
        }
        # What the user never filled in is left out, not sent empty.
        return Response({key: value for key, value in profile.items() if value})
