"""The standalone API's views: a plain Django view with the decorator, a DRF view with
the authentication and permission classes, and what the test reads about this process
(``state``, ``advance_clock``: unprotected, test-only)."""

import json

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from oauthflow.decorators import require_oauth
from oauthflow.rest_framework import OAuth2Authentication, TokenHasScope

from . import harness


def describe(user, token):
    # __class__, not type(): the user and the client may be lazy objects.
    return {
        "sub": token.sub,
        "client_id": token.client_id,
        "aud": token.audience,
        "scopes": sorted(token.scopes),
        "client_credentials": token.is_client_credentials,
        "user": user.get_username() if user.is_authenticated else None,
        "user_class": user.__class__.__name__,
        "client": token.client.client_id,
        "client_class": token.client.__class__.__name__,
    }


@require_oauth(scopes=["read"])
def plain_read(request):
    return JsonResponse(describe(request.user, request.oauth_token))


class ReadView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response(describe(request.user, request.auth))


def state(request):
    """What this process has imported and touched (``harness.state``)."""
    return JsonResponse(harness.state())


def query(request):
    """Tries a query, to show the test that the harness sees it (there is no database)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except ImproperlyConfigured as error:
        return JsonResponse({"refused": str(error)})
    return JsonResponse({"refused": None})


@csrf_exempt
def reset(request):
    harness.reset()
    return JsonResponse({})


@csrf_exempt
def advance_clock(request):
    """Moves the key source's clock forward by ``{"seconds": n}``."""
    return JsonResponse(
        {"clock_offset": harness.advance_clock(json.loads(request.body)["seconds"])}
    )
