"""Authorization server metadata (RFC 8414) at /.well-known/oauth-authorization-server."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from ..server.metadata import metadata as build_metadata


def metadata(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(json.dumps(build_metadata(request)), content_type="application/json")
    # Public and the same for everyone: any origin may read it, caches may keep it a while.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response
