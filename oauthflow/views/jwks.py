"""The JWK Set (``jwks_uri``): the public keys that sign ID tokens and JWT access tokens."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from .. import keys


def jwks(request: HttpRequest) -> HttpResponse:
    """The public signing keys, for anyone: cacheable for 10 minutes."""
    if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD"
        response["Access-Control-Max-Age"] = "86400"
        return response
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = HttpResponse(json.dumps(keys.jwks()), content_type="application/jwk-set+json")
    response["Cache-Control"] = "public, max-age=600"
    # Public keys, for anyone: a browser app may read them too.
    response["Access-Control-Allow-Origin"] = "*"
    return response
