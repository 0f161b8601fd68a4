"""Authorization server metadata (RFC 8414) at /.well-known/oauth-authorization-server."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from ..server.metadata import metadata as build_metadata


def metadata(request: HttpRequest) -> HttpResponse:
    """GET and HEAD; OPTIONS only as a CORS preflight (a browser app may read it)."""
    if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "GET, HEAD"
        response["Access-Control-Max-Age"] = "86400"
    elif request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    else:
        body = json.dumps(build_metadata(request))
        response = HttpResponse(body, content_type="application/json")
        # Public and the same for everyone: caches may keep it a while.
        response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
