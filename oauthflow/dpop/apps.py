from __future__ import annotations

from django.apps import AppConfig


class DPoPConfig(AppConfig):
    name = "oauthflow.dpop"
    label = "oauthflow_dpop"
    verbose_name = "DPoP"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import register

        register.register()
