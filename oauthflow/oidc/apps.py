from __future__ import annotations

from django.apps import AppConfig


class OpenIDConnectConfig(AppConfig):
    name = "oauthflow.oidc"
    label = "oauthflow_oidc"
    verbose_name = "OpenID Connect"

    def ready(self) -> None:
        from . import register

        register.register()
