"""System checks: bad or unsafe ``OAUTHFLOW`` configuration fails at start-up, not mid-request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from .scope import is_valid_scope_token
from .settings import DEFAULTS, LIFETIME_BOUNDS

_TYPES: dict[str, type | tuple[type, ...]] = {
    "SCOPES": dict,
    "DEFAULT_SCOPES": (list, tuple),
    "AUTHORIZATION_CODE_LIFETIME": int,
    "ACCESS_TOKEN_LIFETIME": int,
    "REFRESH_TOKEN_IDLE_LIFETIME": int,
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": int,
    "ISSUER": (str, type(None)),
    "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": bool,
    "ALLOW_INSECURE_TRANSPORT": bool,
    "REALM": str,
    "READ_SCOPE": str,
    "WRITE_SCOPE": str,
    "ALLOW_FORM_BODY_TOKEN": bool,
    "TOKEN_CACHE": (str, type(None)),
    "CLEARTOKENS_BATCH_SIZE": int,
    "ADAPTER": str,
}
assert set(_TYPES) == set(DEFAULTS), "every setting needs a type"  # noqa: S101

# Cache backends whose entries live in one process: the token cache needs one that every
# process shares, or a revocation is not seen everywhere.
_PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = [t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,))]
    return " or ".join("None" if n == "NoneType" else n for n in names)


@checks.register(checks.Tags.security, "oauthflow")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    user = getattr(settings, "OAUTHFLOW", {})
    if not isinstance(user, dict):
        return [
            checks.Error(
                "settings.OAUTHFLOW must be a dict.",
                hint="Set OAUTHFLOW = {...} with the keys listed in docs/settings.md.",
                id="oauthflow.E001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for key in sorted(set(user) - set(DEFAULTS)):
        errors.append(
            checks.Error(
                f"Unknown OAUTHFLOW setting {key!r}.",
                hint="Known settings: " + ", ".join(sorted(DEFAULTS)) + ".",
                id="oauthflow.E002",
            )
        )
    values = {**DEFAULTS, **{k: v for k, v in user.items() if k in DEFAULTS}}
    bad_type = set()
    for key, expected in _TYPES.items():
        value = values[key]
        # bool is an int subclass; a lifetime of True is a mistake, not one second.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            bad_type.add(key)
            errors.append(
                checks.Error(
                    f"OAUTHFLOW[{key!r}] must be {_type_name(expected)}, "
                    f"not {type(value).__name__}.",
                    id="oauthflow.E003",
                )
            )

    for key, (low, high) in LIFETIME_BOUNDS.items():
        if key not in bad_type and not low <= values[key] <= high:
            errors.append(
                checks.Error(
                    f"OAUTHFLOW[{key!r}] is {values[key]} seconds; it must be between "
                    f"{low} and {high}.",
                    id="oauthflow.E004",
                )
            )
    if "CLEARTOKENS_BATCH_SIZE" not in bad_type and values["CLEARTOKENS_BATCH_SIZE"] < 1:
        errors.append(
            checks.Error(
                "OAUTHFLOW['CLEARTOKENS_BATCH_SIZE'] must be at least 1.",
                id="oauthflow.E004",
            )
        )
    if (
        not {"REFRESH_TOKEN_IDLE_LIFETIME", "REFRESH_TOKEN_ABSOLUTE_LIFETIME"} & bad_type
        and values["REFRESH_TOKEN_IDLE_LIFETIME"] > values["REFRESH_TOKEN_ABSOLUTE_LIFETIME"]
    ):
        errors.append(
            checks.Error(
                "OAUTHFLOW['REFRESH_TOKEN_IDLE_LIFETIME'] is longer than "
                "OAUTHFLOW['REFRESH_TOKEN_ABSOLUTE_LIFETIME'].",
                id="oauthflow.E005",
            )
        )

    if "SCOPES" not in bad_type:
        errors += _check_scopes(values["SCOPES"], values["DEFAULT_SCOPES"], bad_type)
    if "ISSUER" not in bad_type and values["ISSUER"] is not None:
        errors += _check_issuer(values["ISSUER"])
    if "TOKEN_CACHE" not in bad_type and values["TOKEN_CACHE"] is not None:
        caches = getattr(settings, "CACHES", {})
        if values["TOKEN_CACHE"] not in caches:
            errors.append(
                checks.Error(
                    f"OAUTHFLOW['TOKEN_CACHE'] names the cache {values['TOKEN_CACHE']!r}, "
                    "which is not in settings.CACHES.",
                    id="oauthflow.E008",
                )
            )
        elif caches[values["TOKEN_CACHE"]].get("BACKEND") in _PROCESS_LOCAL_CACHES:
            errors.append(
                checks.Warning(
                    f"OAUTHFLOW['TOKEN_CACHE'] names {values['TOKEN_CACHE']!r}, a cache each "
                    "process keeps for itself: a revocation clears it only in the process "
                    "that revoked, and other processes accept the token for up to "
                    "5 minutes.",
                    hint="Use a shared cache (Redis, Memcached) or no token cache.",
                    id="oauthflow.W003",
                )
            )
    if "ISSUER" not in bad_type and values["ISSUER"] is None and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "OAUTHFLOW['ISSUER'] is not set: the issuer identifier is taken from each "
                "request's Host header.",
                hint="Set it to your server's https URL, e.g. 'https://auth.example.com', so "
                "metadata and the iss parameter (RFC 9207) do not depend on the request.",
                id="oauthflow.W004",
            )
        )
    if values["ALLOW_INSECURE_TRANSPORT"] is True and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "OAUTHFLOW['ALLOW_INSECURE_TRANSPORT'] is on while DEBUG is off: tokens "
                "and secrets may cross the network in clear.",
                hint="Serve the OAuth endpoints over https and remove the setting.",
                id="oauthflow.W001",
            )
        )
    if values["PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS"] is False:
        errors.append(
            checks.Warning(
                "PKCE is optional for confidential clients; RFC 9700 §2.1.1 recommends "
                "requiring it of every client.",
                id="oauthflow.W002",
            )
        )
    return errors


def _check_scopes(
    scopes: dict[Any, Any], default_scopes: Any, bad_type: set[str]
) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for name, description in scopes.items():
        if not isinstance(name, str) or not is_valid_scope_token(name):
            errors.append(
                checks.Error(
                    f"OAUTHFLOW['SCOPES'] has the invalid scope name {name!r}.",
                    hint="A scope is printable ASCII without spaces, quotes or backslashes "
                    "(RFC 6749 §3.3).",
                    id="oauthflow.E006",
                )
            )
        if not isinstance(description, str) or not description.strip():
            errors.append(
                checks.Error(
                    f"OAUTHFLOW['SCOPES'][{name!r}] needs a description for the consent page.",
                    id="oauthflow.E006",
                )
            )
    if "DEFAULT_SCOPES" not in bad_type:
        unknown = [s for s in default_scopes if s not in scopes]
        if unknown:
            errors.append(
                checks.Error(
                    f"OAUTHFLOW['DEFAULT_SCOPES'] names scopes not in SCOPES: {unknown}.",
                    id="oauthflow.E006",
                )
            )
    return errors


def _check_issuer(issuer: str) -> list[checks.CheckMessage]:
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return [
            checks.Error(
                f"OAUTHFLOW['ISSUER'] {issuer!r} is not an absolute URL.",
                id="oauthflow.E007",
            )
        ]
    errors: list[checks.CheckMessage] = []
    if parts.query or parts.fragment:
        errors.append(
            checks.Error(
                "OAUTHFLOW['ISSUER'] must have no query or fragment (RFC 8414 §2).",
                id="oauthflow.E007",
            )
        )
    if parts.scheme == "http" and not settings.DEBUG:
        errors.append(
            checks.Error(
                f"OAUTHFLOW['ISSUER'] {issuer!r} uses http while DEBUG is off.",
                hint="The issuer must be an https URL (RFC 8414 §2).",
                id="oauthflow.E007",
            )
        )
    return errors
