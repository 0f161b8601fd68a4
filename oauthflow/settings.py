"""The one reader of ``settings.OAUTHFLOW``.

Everything else asks ``oauthflow_settings.NAME``. Defaults give the RFC 9700 / OAuth 2.1
behaviour, so a site that sets nothing is safe. The object is rebuilt when a test
overrides ``OAUTHFLOW`` (the ``setting_changed`` signal), in the manner of DRF's
``api_settings``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

#: Every key a site may set, with its default. ``docs/settings.md`` describes each one.
DEFAULTS: dict[str, Any] = {
    # Scopes this server knows, each with the words the consent page shows the user.
    "SCOPES": {
        "read": "Read your data",
        "write": "Change your data",
    },
    # Scopes granted when a client asks for none and has no default scopes of its own.
    "DEFAULT_SCOPES": [],
    # Lifetimes, in seconds.
    "AUTHORIZATION_CODE_LIFETIME": 60,
    "ACCESS_TOKEN_LIFETIME": 3600,
    "REFRESH_TOKEN_IDLE_LIFETIME": 30 * 24 * 3600,
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": 90 * 24 * 3600,
    # The issuer identifier (RFC 8414, RFC 9207), e.g. "https://auth.example.com".
    # None derives it from the request's scheme and host, which suits one-host sites.
    "ISSUER": None,
    # PKCE is always required of public clients; this makes it required of confidential
    # clients too (RFC 9700 §2.1.1, OAuth 2.1).
    "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": True,
    # Accept OAuth requests over plain http from hosts other than loopback. Only for tests.
    "ALLOW_INSECURE_TRANSPORT": False,
    # Resource protection (RFC 6750).
    "REALM": "api",
    "READ_SCOPE": "read",
    "WRITE_SCOPE": "write",
    # RFC 6750 §2.2 form-encoded body tokens; off because they are easy to leak.
    "ALLOW_FORM_BODY_TOKEN": False,
    # A Django cache alias that caches token lookups, or None for no cache.
    "TOKEN_CACHE": None,
    # Rows deleted per statement by ``oauthflow_cleartokens``.
    "CLEARTOKENS_BATCH_SIZE": 10_000,
    # The import path of the site's policy class (``oauthflow.adapter``).
    "ADAPTER": "oauthflow.adapter.DefaultAdapter",
}

#: Bounds (inclusive, seconds) the system checks enforce on the lifetimes.
LIFETIME_BOUNDS: dict[str, tuple[int, int]] = {
    "AUTHORIZATION_CODE_LIFETIME": (1, 600),  # RFC 6749 §4.1.2: at most 10 minutes
    "ACCESS_TOKEN_LIFETIME": (1, 24 * 3600),
    "REFRESH_TOKEN_IDLE_LIFETIME": (60, 366 * 24 * 3600),
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": (60, 5 * 366 * 24 * 3600),
}


class OAuthFlowSettings:
    """Attribute access to ``settings.OAUTHFLOW`` merged over :data:`DEFAULTS`.

    Unknown keys are kept out of the attributes and reported by the system checks
    (``oauthflow.checks``) rather than raising here, so a typo shows up at start-up with
    a clear message instead of as an ``AttributeError`` deep in a request.
    """

    def __init__(self, user_settings: dict[str, Any] | None = None):
        self._user_settings = user_settings

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user_settings is None:
            value = getattr(settings, "OAUTHFLOW", {})
            self._user_settings = value if isinstance(value, dict) else {}
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid oauthflow setting: {name!r}")
        value = self.user_settings.get(name, DEFAULTS[name])
        # Cache the result; reload() clears it.
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        for name in DEFAULTS:
            self.__dict__.pop(name, None)
        self._user_settings = None


oauthflow_settings = OAuthFlowSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "OAUTHFLOW":
        oauthflow_settings.reload()


setting_changed.connect(_reload)
