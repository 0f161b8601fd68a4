from django.apps import AppConfig


class OAuthFlowConfig(AppConfig):
    name = "oauthflow"
    verbose_name = "OAuth 2.0 provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, site_checks  # noqa: F401  (register the system checks)
        from .resource import cache
        from .store import users

        # Keeps the optional token cache right when tokens are revoked and clients and
        # users change.
        cache.connect_signals()
        # A password change revokes the user's tokens (REVOKE_TOKENS_ON_PASSWORD_CHANGE).
        users.connect_signals()
