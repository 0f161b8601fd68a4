"""The grants, endpoints and client authentication methods oauthflow ships with."""

from __future__ import annotations

from . import resources
from .client_auth import authenticate_none
from .endpoints.introspection import IntrospectionEndpoint
from .endpoints.revocation import RevocationEndpoint
from .grants.authorization_code import AuthorizationCodeGrant
from .grants.client_credentials import ClientCredentialsGrant
from .grants.pkce import PKCE
from .grants.refresh_token import RefreshTokenGrant
from .registry import Registry


def register(registry: Registry) -> None:
    registry.register_grant(AuthorizationCodeGrant, [PKCE()])
    registry.register_grant(RefreshTokenGrant)
    registry.register_grant(ClientCredentialsGrant)
    registry.register_endpoint(RevocationEndpoint)
    registry.register_endpoint(IntrospectionEndpoint)
    registry.register_client_auth_method("none", authenticate_none)
    registry.register_authorization_check(resources.check_authorization)
