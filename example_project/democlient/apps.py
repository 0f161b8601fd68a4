from django.apps import AppConfig


class DemoClientConfig(AppConfig):
    """A pretend third-party app that links the user's account at the provider.

    It lives in the same Django site only so ``make demo`` runs one server; it talks to
    the provider exactly as an app on another host would: over HTTP, with Authlib's
    OAuth client, never through the ORM or an ``oauthflow`` import.
    """

    name = "democlient"
    verbose_name = "Demo client"
