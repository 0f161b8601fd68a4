"""Authorization server metadata (RFC 8414) at /.well-known/oauth-authorization-server."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .. import scope as scopes
from ..grants import CLIENT_AUTH_METHODS, CONFIDENTIAL_AUTH_METHODS
from ..models import GRANT_TYPES
from ..server import server


def metadata(request: HttpRequest) -> HttpResponse:
    issuer = server.issuer(request)
    body = {
        "issuer": issuer,
        "authorization_endpoint": issuer + reverse("oauthflow:authorize"),
        "token_endpoint": issuer + reverse("oauthflow:token"),
        "scopes_supported": list(scopes.known_scopes()),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "revocation_endpoint": issuer + reverse("oauthflow:revoke"),
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint": issuer + reverse("oauthflow:introspect"),
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    # Public and the same for everyone: any origin may read it, caches may keep it a while.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response
