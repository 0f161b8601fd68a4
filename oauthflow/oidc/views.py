"""UserInfo (Core §5.3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..models import AccessToken, Authentication
from ..resource.decorators import require_oauth
from .claims import user_claims

_CORS_HEADERS = "Authorization, Content-Type, DPoP"
#: What a browser app must read of an answer: the challenge, and a DPoP nonce (RFC 9449 §9).
_CORS_EXPOSE = "WWW-Authenticate, DPoP-Nonce"


def _cors(response: HttpResponse, methods: str) -> HttpResponse:
    # Browser apps may call both: UserInfo needs the bearer token, which a browser never
    # adds by itself, so allowing every origin exposes nothing.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = _CORS_EXPOSE
    if methods:
        response["Access-Control-Allow-Methods"] = methods
        response["Access-Control-Allow-Headers"] = _CORS_HEADERS
        response["Access-Control-Max-Age"] = "86400"
    return response


def _preflight(request: HttpRequest) -> bool:
    return request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META


@csrf_exempt
def userinfo(request: HttpRequest) -> HttpResponse:
    """GET or POST with an access token granted ``openid``: the user's claims as JSON."""
    if _preflight(request):
        return _cors(HttpResponse(status=204), "GET, POST")
    if request.method not in ("GET", "POST"):
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "Use GET or POST."}, status=405
        )
        response["Allow"] = "GET, POST"
        return _cors(response, "")
    return _cors(_userinfo(request), "")


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
