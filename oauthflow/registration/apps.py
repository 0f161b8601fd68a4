from __future__ import annotations

from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "oauthflow.registration"
    label = "oauthflow_registration"
    verbose_name = "Dynamic client registration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import register

        register.register()
