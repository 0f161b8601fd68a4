from __future__ import annotations

from django.apps import AppConfig


class DeviceConfig(AppConfig):
    name = "oauthflow.device"
    label = "oauthflow_device"
    verbose_name = "Device authorization"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import register

        register.register()
