"""The endpoints clients call directly: token (RFC 6749 §3.2), revocation (RFC 7009) and
introspection (RFC 7662). JSON in every case, never cached, POST over https only; token
and revocation also answer a browser app's CORS preflight (``OPTIONS``, oauthflow.cors)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from .. import cors, unavailable
from ..server.authorization_server import get_server
from ..server.request import check_transport
from .authorize import INSECURE


def _client_endpoint(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """POST over https, no CSRF (clients authenticate themselves), and every body
    parameter hidden from Django's error reports: they hold secrets, codes and tokens."""

    @csrf_exempt
    @sensitive_post_parameters()
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            response = _json_error("invalid_request", "Use POST.", status=405)
            response["Allow"] = "POST"
            return response
        if not check_transport(request):
            return _json_error("invalid_request", INSECURE)
        try:
            return view(request)
        except unavailable.DATABASE_UNAVAILABLE as error:
            unavailable.log(error)
            return unavailable.json_response()

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = view.__name__
    return wrapped


def _json_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@cors.client_endpoint
@_client_endpoint
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint."""
    return get_server().create_token_response(request)


@cors.client_endpoint
@_client_endpoint
def revoke(request: HttpRequest) -> HttpResponse:
    """The revocation endpoint."""
    return get_server().create_endpoint_response("revocation", request)


@_client_endpoint
def introspect(request: HttpRequest) -> HttpResponse:
    """The introspection endpoint, for clients flagged ``may_introspect``."""
    return get_server().create_endpoint_response("introspection", request)
