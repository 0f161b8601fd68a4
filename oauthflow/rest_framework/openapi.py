"""drf-spectacular support: imported by ``oauthflow.rest_framework`` when drf-spectacular is
installed, which registers the extension (drf-spectacular finds extensions by subclass).

The schema then has an ``oauth2`` security scheme (the authorization code and client
credentials flows with this server's authorize and token URLs and its scopes) and, on each
operation, the scopes its permissions require. Nothing to write in the project.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import APIException
from rest_framework.permissions import AND, OR

from ..scope import known_scopes
from ..settings import oauthflow_settings
from .permissions import _ScopePermission


class OAuth2AuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ``OAuth2Authentication`` (and subclasses) as an OAuth 2.0 security scheme."""

    target_class = "oauthflow.rest_framework.authentication.OAuth2Authentication"
    match_subclasses = True
    name = "oauth2"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        view = auto_schema.view
        scopes: list[str] = []
        for permission in view.get_permissions():
            scopes += _scopes(permission, view)
        return {self.name: list(dict.fromkeys(scopes))}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        token_url = _url("oauthflow:token")
        return {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": _url("oauthflow:authorize"),
                    "tokenUrl": token_url,
                    "refreshUrl": token_url,
                    "scopes": {name: str(words) for name, words in known_scopes().items()},
                },
                "clientCredentials": {
                    "tokenUrl": token_url,
                    "scopes": {name: str(words) for name, words in known_scopes().items()},
                },
            },
        }


def _scopes(permission: Any, view: Any) -> list[str]:
    """Scopes required by a permission, looking inside DRF's ``&`` and ``|`` (not ``~``)."""
    if isinstance(permission, _ScopePermission):
        try:
            return permission.get_scopes(view.request, view)
        except (ImproperlyConfigured, APIException) as exc:
            warn(f"oauthflow: cannot tell the scopes of {type(view).__name__}: {exc}")
            return []
    if isinstance(permission, (AND, OR)):
        composed: Any = permission  # the stubs do not declare op1 and op2
        return _scopes(composed.op1, view) + _scopes(composed.op2, view)
    return []


def _url(name: str) -> str:
    """An endpoint's URL: absolute under OAUTHFLOW["ISSUER"] when set, else the path
    (OpenAPI resolves relative URLs against the schema's servers)."""
    try:
        path = reverse(name)
    except NoReverseMatch:
        warn(f"oauthflow: the URL {name!r} is not installed; include('oauthflow.urls').")
        return ""
    issuer = oauthflow_settings.ISSUER
    return urljoin(issuer, path) if issuer else path
