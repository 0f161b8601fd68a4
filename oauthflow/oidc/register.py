"""Plugging OpenID Connect into the server (called from the app's ``ready()``)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.signals import request_finished

from ..scope import add_scopes
from ..server.registry import registry
from . import authentication, backchannel, claims, discovery, id_token
from .id_token import IDTokenExtension


def register() -> None:
    add_scopes(claims.SCOPES)
    grant_types = ["authorization_code", "refresh_token"]
    if apps.is_installed("oauthflow.device"):
        from ..device import approval
        from ..device.grant import DEVICE_CODE_GRANT_TYPE

        grant_types.append(DEVICE_CODE_GRANT_TYPE)
        approval.register(authentication.record_device_approval)
    registry.register_grant_extension(IDTokenExtension(), grant_types)
    registry.register_metadata(discovery.metadata)
    registry.register_authorization_check(authentication.check_request)
    registry.register_consent_details(claims.consent_details)
    registry.register_token_claims(id_token.access_token_claims)
    user_logged_in.connect(authentication.stamp_sign_in, dispatch_uid="oauthflow.oidc.sign_in")
    user_logged_out.connect(backchannel.on_logout, dispatch_uid="oauthflow.oidc.logout")
    request_finished.connect(
        authentication.forget_ui_locales, dispatch_uid="oauthflow.oidc.ui_locales"
    )
