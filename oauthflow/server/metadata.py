"""The authorization server metadata document (RFC 8414), built from the registry.

Every grant, endpoint and extension says what it adds; nothing is listed that the
registry does not serve.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ..scope import known_scopes
from .authorization_server import get_server
from .registry import registry


def metadata(request: HttpRequest) -> dict[str, Any]:
    server = get_server()
    issuer = server.issuer(request)
    grants = registry.grant_classes()
    body: dict[str, Any] = {"issuer": issuer}
    if any(getattr(grant, "RESPONSE_TYPES", None) for grant in grants.values()):
        body["authorization_endpoint"] = issuer + reverse("oauthflow:authorize")
    body["token_endpoint"] = issuer + reverse("oauthflow:token")
    # The keys of ID tokens and JWT access tokens (empty until one is signed).
    body["jwks_uri"] = issuer + reverse("oauthflow:jwks")
    body["scopes_supported"] = list(known_scopes())
    extra: dict[str, Any] = {}
    for grant in grants.values():
        for key, value in grant.metadata().items():
            extra[key] = _merge(extra.get(key), value)
    for key in ("response_types_supported", "response_modes_supported"):
        if key in extra:
            body[key] = extra.pop(key)
    body["grant_types_supported"] = list(grants)
    body["token_endpoint_auth_methods_supported"] = registry.token_endpoint_auth_methods()
    body.update(extra)
    for endpoint in registry.endpoints():
        url_name = getattr(endpoint, "URL_NAME", None)
        if url_name:
            body.update(endpoint.metadata(issuer + reverse(url_name)))
    for contribute in registry.metadata_contributors():
        for key, value in contribute(issuer).items():
            body[key] = _merge(body.get(key), value)
    return body


def _merge(old: Any, new: Any) -> Any:
    """Lists from several grants are joined without repeats; other values: the last wins."""
    if isinstance(old, list) and isinstance(new, list):
        return list(dict.fromkeys([*old, *new]))
    return new
