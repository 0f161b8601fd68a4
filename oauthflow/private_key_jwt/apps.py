from __future__ import annotations

from django.apps import AppConfig


class PrivateKeyJWTConfig(AppConfig):
    name = "oauthflow.private_key_jwt"
    label = "oauthflow_private_key_jwt"
    verbose_name = "Client authentication with keys (private_key_jwt)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import register

        register.register()
