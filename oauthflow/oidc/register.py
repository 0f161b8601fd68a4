"""Plugging OpenID Connect into the server (called from the app's ``ready()``)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in

from ..scope import add_scopes
from ..server.registry import registry
from . import authentication, claims, discovery
from .id_token import IDTokenExtension


def register() -> None:
    add_scopes(claims.SCOPES)
    registry.register_grant_extension(IDTokenExtension(), ["authorization_code", "refresh_token"])
    registry.register_metadata(discovery.metadata)
    registry.register_authorization_check(authentication.check_request)
    registry.register_consent_details(claims.consent_details)
    user_logged_in.connect(authentication.stamp_sign_in, dispatch_uid="oauthflow.oidc.sign_in")
