from django.apps import AppConfig


class OAuthFlowConfig(AppConfig):
    name = "oauthflow"
    verbose_name = "OAuth 2.0 provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .resource.cache import connect_signals

        # Keeps the optional token cache right when tokens are revoked and clients and
        # users change.
        connect_signals()
