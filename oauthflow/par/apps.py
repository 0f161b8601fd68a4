from __future__ import annotations

from django.apps import AppConfig


class PushedAuthorizationConfig(AppConfig):
    name = "oauthflow.par"
    label = "oauthflow_par"
    verbose_name = "Pushed authorization requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import register

        register.register()
