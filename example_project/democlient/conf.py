"""The demo client's configuration: ``settings.DEMO_CLIENT`` over these defaults.

Read on every use (not cached) so tests can point the client at a live server with
``override_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Where the provider lives; its endpoints are discovered from RFC 8414 metadata there.
    "PROVIDER_URL": "http://127.0.0.1:8000",
    # Must equal, character for character, a redirect URI registered for the client.
    "REDIRECT_URI": "http://127.0.0.1:8000/demo/callback",
    # Where the provider sends the user back after signing out (OpenID Connect RP-Initiated
    # Logout); registered for the client as a post-logout redirect URI.
    "SIGNED_OUT_URI": "http://127.0.0.1:8000/demo/signed-out",
    # JSON with client_id and client_secret, written by `manage.py demo_setup`.
    "CREDENTIALS_FILE": None,
    # OpenID Connect's scopes sign the user in; read lets it call the API.
    "SCOPE": "openid profile email read",
    # The protected API the demo calls with its access token (a resource, not in metadata).
    "API_PATH": "/api/me/",
    # Seconds to wait for the provider; a hung provider must not hang our page forever.
    "TIMEOUT": 10,
}


def demo_settings() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "DEMO_CLIENT", {})}
