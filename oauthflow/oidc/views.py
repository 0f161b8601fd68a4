"""UserInfo (Core §5.3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import cors, unavailable
from ..models import AccessToken, Authentication, Client
from ..resource.decorators import require_oauth
from .claims import user_claims


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    # The token says which client the page is: only that client's origins may read the
    # answer (oauthflow.cors). With no valid token, any public client's, so the app can
    # read the challenge (WWW-Authenticate) and a DPoP nonce.
    token = getattr(request, "oauth_token", None)
    try:
        # A JWT access token loads its client only now.
        client = getattr(token, "client", None) if token is not None else None
        known = client if isinstance(client, Client) else None
    except unavailable.DATABASE_UNAVAILABLE as error:
        unavailable.log(error)
        known = None
    cors.allow_for_client(request, response, known)
    return response


@csrf_exempt
def userinfo(request: HttpRequest) -> HttpResponse:
    """GET or POST with an access token granted ``openid``: the user's claims as JSON."""
    if cors.is_preflight(request):
        return cors.preflight(request, ("GET", "POST"))
    if request.method not in ("GET", "POST"):
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "Use GET or POST."}, status=405
        )
        response["Allow"] = "GET, POST"
        return _cors(request, response)
    return _cors(request, _userinfo(request))


@require_oauth(scopes=["openid"])
def _userinfo(request: HttpRequest) -> HttpResponse:
    token: Any = request.oauth_token  # type: ignore[attr-defined]
    record = None
    if isinstance(token, AccessToken) and token.user_id is not None:
        record = Authentication.objects.filter(family=token.family, user_id=token.user_id).first()
    if record is None:
        # An openid token with no sign-in behind it (client_credentials, say).
        response = JsonResponse(
            {
                "error": "invalid_token",
                "error_description": "The access token was not issued for a signed-in user.",
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    body = user_claims(token.user, token.scope, record.claims.get("userinfo"))
    body["sub"] = record.sub
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
