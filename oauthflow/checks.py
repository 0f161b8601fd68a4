"""System checks: bad or unsafe ``OAUTHFLOW`` configuration fails at start-up, not mid-request.

The checks every setting gets (a known key, the right type, within bounds) loop over
``oauthflow.settings.SETTINGS``; the checks that need more than one value, or more than a
type, have a function each below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .scope import is_valid_scope_token, known_scopes
from .settings import DEFAULTS, SETTINGS, Setting

Messages = list[checks.CheckMessage]

# Cache backends whose entries live in one process: the token cache needs one that every
# process shares, or a revocation is not seen everywhere.
_PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


@checks.register(checks.Tags.security, "oauthflow")
def check_settings(app_configs: Any = None, **kwargs: Any) -> Messages:
    user = getattr(settings, "OAUTHFLOW", {})
    if not isinstance(user, dict):
        return [
            checks.Error(
                _("settings.OAUTHFLOW must be a dict."),
                hint=_("Set OAUTHFLOW = {...} with the keys listed in docs/settings.md."),
                id="oauthflow.E001",
            )
        ]
    values = {**DEFAULTS, **{k: v for k, v in user.items() if k in DEFAULTS}}
    # The checks below see only values of the right type: a wrong type is reported once
    # (E003), not again as whatever it breaks further on.
    typed = {s.name: values[s.name] for s in SETTINGS if s.accepts(values[s.name])}
    messages = _check_unknown_keys(user) + _check_types(values) + _check_bounds(typed)
    for check in _CROSS_CHECKS:
        messages += check(typed)
    return messages


def _check_unknown_keys(user: Mapping[str, Any]) -> Messages:
    return [
        checks.Error(
            _("Unknown OAUTHFLOW setting %(key)r.") % {"key": key},
            hint=_("Known settings: %(names)s.") % {"names": ", ".join(sorted(DEFAULTS))},
            id="oauthflow.E002",
        )
        for key in sorted(set(user) - set(DEFAULTS))
    ]


def _check_types(values: Mapping[str, Any]) -> Messages:
    return [
        checks.Error(
            _("OAUTHFLOW[%(name)r] must be %(expected)s, not %(actual)s.")
            % {"name": s.name, "expected": _type_name(s), "actual": type(values[s.name]).__name__},
            id="oauthflow.E003",
        )
        for s in SETTINGS
        if not s.accepts(values[s.name])
    ]


def _type_name(setting: Setting) -> str:
    return " or ".join("None" if t is type(None) else t.__name__ for t in setting.types)


def _check_bounds(typed: Mapping[str, Any]) -> Messages:
    return [
        checks.Error(_out_of_bounds(s, typed[s.name], s.bounds), id="oauthflow.E004")
        for s in SETTINGS
        if s.bounds is not None and s.name in typed and not _within(typed[s.name], s.bounds)
    ]


def _within(value: int, bounds: tuple[int, int | None]) -> bool:
    low, high = bounds
    return low <= value and (high is None or value <= high)


def _out_of_bounds(setting: Setting, value: int, bounds: tuple[int, int | None]) -> str:
    low, high = bounds
    unit = f" {setting.unit}" if setting.unit else ""
    names = {"name": setting.name, "value": value, "unit": unit, "low": low, "high": high}
    if high is None:
        return _("OAUTHFLOW[%(name)r] must be at least %(low)s%(unit)s.") % names
    return (
        _("OAUTHFLOW[%(name)r] is %(value)s%(unit)s; it must be between %(low)s and %(high)s.")
        % names
    )


# Checks of one thing each, over the values of the right type ------------------------------
# Each returns nothing when a value it needs had the wrong type.


def _check_refresh_lifetimes(typed: Mapping[str, Any]) -> Messages:
    idle = typed.get("REFRESH_TOKEN_IDLE_LIFETIME")
    absolute = typed.get("REFRESH_TOKEN_ABSOLUTE_LIFETIME")
    if idle is None or absolute is None or idle <= absolute:
        return []
    return [
        checks.Error(
            _(
                "OAUTHFLOW['REFRESH_TOKEN_IDLE_LIFETIME'] is longer than "
                "OAUTHFLOW['REFRESH_TOKEN_ABSOLUTE_LIFETIME']."
            ),
            id="oauthflow.E005",
        )
    ]


def _check_scopes(typed: Mapping[str, Any]) -> Messages:
    messages: Messages = []
    for name, description in typed.get("SCOPES", {}).items():
        if not isinstance(name, str) or not is_valid_scope_token(name):
            messages.append(
                checks.Error(
                    _("OAUTHFLOW['SCOPES'] has the invalid scope name %(name)r.") % {"name": name},
                    hint=_(
                        "A scope is printable ASCII without spaces, quotes or backslashes "
                        "(RFC 6749 §3.3)."
                    ),
                    id="oauthflow.E006",
                )
            )
        # A description may be lazy (gettext_lazy), so the consent page shows it translated.
        if not isinstance(description, (str, Promise)) or not str(description).strip():
            messages.append(
                checks.Error(
                    _("OAUTHFLOW['SCOPES'][%(name)r] needs a description for the consent page.")
                    % {"name": name},
                    id="oauthflow.E006",
                )
            )
    return messages


def _check_default_scopes(typed: Mapping[str, Any]) -> Messages:
    if "SCOPES" not in typed or "DEFAULT_SCOPES" not in typed:
        return []
    unknown = [s for s in typed["DEFAULT_SCOPES"] if s not in typed["SCOPES"]]
    if not unknown:
        return []
    return [
        checks.Error(
            _("OAUTHFLOW['DEFAULT_SCOPES'] names scopes not in SCOPES: %(unknown)s.")
            % {"unknown": ", ".join(unknown)},
            id="oauthflow.E006",
        )
    ]


def _check_issuer(typed: Mapping[str, Any]) -> Messages:
    issuer = typed.get("ISSUER")
    if issuer is None:
        return []
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return [
            checks.Error(
                _("OAUTHFLOW['ISSUER'] %(issuer)r is not an absolute URL.") % {"issuer": issuer},
                id="oauthflow.E007",
            )
        ]
    messages: Messages = []
    if parts.query or parts.fragment:
        messages.append(
            checks.Error(
                _("OAUTHFLOW['ISSUER'] must have no query or fragment (RFC 8414 §2)."),
                id="oauthflow.E007",
            )
        )
    if parts.scheme == "http" and not settings.DEBUG:
        messages.append(
            checks.Error(
                _("OAUTHFLOW['ISSUER'] %(issuer)r uses http while DEBUG is off.")
                % {"issuer": issuer},
                hint=_("The issuer must be an https URL (RFC 8414 §2)."),
                id="oauthflow.E007",
            )
        )
    return messages


def _check_resource(typed: Mapping[str, Any]) -> Messages:
    resource = typed.get("RESOURCE")
    if resource is None:
        return []
    if _is_resource_identifier(resource):
        return []
    return [
        checks.Error(
            _(
                "OAUTHFLOW['RESOURCE'] %(resource)r is not an absolute URI without a fragment: "
                "no JWT access token can name it in its aud."
            )
            % {"resource": resource},
            hint=_(
                "Set it to this API's resource identifier exactly as the provider registered "
                "it (manage.py oauthflow_resource list), e.g. 'https://api.example.com/'."
            ),
            id="oauthflow.E013",
        )
    ]


def _check_verification_uri(typed: Mapping[str, Any]) -> Messages:
    uri = typed.get("DEVICE_VERIFICATION_URI")
    if not uri:
        return []
    try:
        parts = urlsplit(uri)
    except ValueError:  # e.g. an unclosed [ in the host
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        message = _(
            "OAUTHFLOW['DEVICE_VERIFICATION_URI'] %(uri)r is not an absolute http(s) URL "
            "without a fragment."
        )
    elif parts.query:
        # verification_uri_complete adds ?user_code=... to it.
        message = _("OAUTHFLOW['DEVICE_VERIFICATION_URI'] %(uri)r has a query.")
    elif parts.scheme == "http" and not settings.DEBUG:
        message = _("OAUTHFLOW['DEVICE_VERIFICATION_URI'] %(uri)r uses http while DEBUG is off.")
    else:
        return []
    return [
        checks.Error(
            message % {"uri": uri},
            hint=_(
                "Set it to the https URL of the page where users type the codes their "
                "devices show, or leave it empty for oauthflow's own (/oauth/device/)."
            ),
            id="oauthflow.E014",
        )
    ]


def _is_resource_identifier(value: str) -> bool:
    """What a Resource's identifier must be (RFC 8707 §2), so what a token's aud names: an
    absolute URI without a fragment, in printable ASCII without spaces."""
    if not value.isascii() or not value.isprintable() or " " in value or "#" in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed [ in the host
        return False
    return bool(parts.scheme and parts.netloc)


def _check_token_cache(typed: Mapping[str, Any]) -> Messages:
    alias = typed.get("TOKEN_CACHE")
    if alias is None:
        return []
    caches = getattr(settings, "CACHES", {})
    if alias not in caches:
        return [
            checks.Error(
                _(
                    "OAUTHFLOW['TOKEN_CACHE'] names the cache %(alias)r, "
                    "which is not in settings.CACHES."
                )
                % {"alias": alias},
                id="oauthflow.E008",
            )
        ]
    if caches[alias].get("BACKEND") in _PROCESS_LOCAL_CACHES:
        return [
            checks.Warning(
                _(
                    "OAUTHFLOW['TOKEN_CACHE'] names %(alias)r, a cache each "
                    "process keeps for itself: a revocation clears it only in the process "
                    "that revoked, and other processes accept the token for up to "
                    "5 minutes."
                )
                % {"alias": alias},
                hint=_("Use a shared cache (Redis, Memcached) or no token cache."),
                id="oauthflow.W003",
            )
        ]
    return []


_FORGETFUL_CACHES = {"django.core.cache.backends.dummy.DummyCache"}
# Check-then-set, or written in the request's own transaction (rolled back with it).
_NOT_ATOMIC_CACHES = {
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.db.DatabaseCache",
}


def _is_a(backend: Any, names: set[str]) -> bool:
    """Whether the cache backend ``backend`` (a dotted path) is, or subclasses, one of
    ``names``."""
    try:
        cls = import_string(str(backend))
    except ImportError:
        return False
    return any(issubclass(cls, import_string(name)) for name in names)


def _check_dpop_in_transactions(typed: Mapping[str, Any]) -> Messages:
    if not apps.is_installed("oauthflow.dpop") or not apps.is_installed("oauthflow"):
        return []
    if typed.get("DPOP_REPLAY_CACHE") or typed.get("TOKEN_CACHE"):
        return []
    atomic = [
        alias
        for alias, config in getattr(settings, "DATABASES", {}).items()
        if config.get("ATOMIC_REQUESTS")
    ]
    if not atomic:
        return []
    return [
        checks.Warning(
            _(
                "DPoP proofs are remembered in the database, and views run in a transaction "
                "(ATOMIC_REQUESTS): a view that fails rolls the record back, and the proof "
                "could be used once more."
            ),
            hint=_("Set OAUTHFLOW['DPOP_REPLAY_CACHE'] to a Redis or Memcached cache."),
            id="oauthflow.W011",
        )
    ]


def _check_dpop_nonces_with_drf(typed: Mapping[str, Any]) -> Messages:
    if not typed.get("DPOP_NONCES") or not apps.is_installed("rest_framework"):
        return []
    handler = getattr(settings, "REST_FRAMEWORK", {}).get("EXCEPTION_HANDLER")
    if handler == "oauthflow.rest_framework.authentication.exception_handler":
        return []
    return [
        checks.Warning(
            _(
                "DPOP_NONCES is on, and DRF views would ask for a nonce without sending one: "
                "DRF's exception handler drops the DPoP-Nonce header."
            ),
            hint=_(
                "Set REST_FRAMEWORK['EXCEPTION_HANDLER'] to "
                "'oauthflow.rest_framework.authentication.exception_handler'."
            ),
            id="oauthflow.W012",
        )
    ]


def _check_dpop_replay_cache(typed: Mapping[str, Any]) -> Messages:
    if not apps.is_installed("oauthflow.dpop"):
        return []
    if not (typed.get("DPOP_REPLAY_CACHE") or typed.get("TOKEN_CACHE")) and not (
        apps.is_installed("oauthflow")
    ):
        return [
            checks.Error(
                _(
                    "oauthflow.dpop is installed without oauthflow: with no database table to "
                    "remember DPoP proofs in, it needs a shared cache."
                ),
                hint=_("Set OAUTHFLOW['DPOP_REPLAY_CACHE'] to a Redis or Memcached cache."),
                id="oauthflow.E015",
            )
        ]
    return _check_replay_cache(typed, "DPOP_REPLAY_CACHE", _("DPoP proof"))


def _check_client_assertion_replay_cache(typed: Mapping[str, Any]) -> Messages:
    if not apps.is_installed("oauthflow.private_key_jwt"):
        return []
    return _check_replay_cache(typed, "CLIENT_ASSERTION_REPLAY_CACHE", _("client assertion"))


def _check_replay_cache(typed: Mapping[str, Any], setting: str, what: str) -> Messages:
    """E015/W010 for a replay store (``oauthflow.store.replay``) set by ``setting``, else
    ``TOKEN_CACHE``, else the database."""
    named = setting if typed.get(setting) else "TOKEN_CACHE"
    alias = typed.get(named)
    caches = getattr(settings, "CACHES", {})
    if alias is None:
        return []  # the database remembers them
    if alias not in caches:
        if named == "TOKEN_CACHE":
            return []  # E008 says so
        return [
            checks.Error(
                _(
                    "OAUTHFLOW['%(setting)s'] names the cache %(alias)r, which is not in "
                    "settings.CACHES."
                )
                % {"setting": setting, "alias": alias},
                id="oauthflow.E015",
            )
        ]
    backend = caches[alias].get("BACKEND")
    if _is_a(backend, _FORGETFUL_CACHES):
        return [
            checks.Error(
                _(
                    "OAUTHFLOW['%(setting)s'] names %(alias)r, a cache that remembers nothing: "
                    "every replayed %(what)s would be accepted."
                )
                % {"setting": named, "alias": alias, "what": what},
                id="oauthflow.E015",
            )
        ]
    if _is_a(backend, _PROCESS_LOCAL_CACHES | _NOT_ATOMIC_CACHES):
        return [
            checks.Warning(
                _(
                    "OAUTHFLOW['%(setting)s'] names %(alias)r, a cache each process keeps for "
                    "itself, or one whose add is not atomic: a %(what)s replayed to another "
                    "process, or twice at once, may be accepted."
                )
                % {"setting": named, "alias": alias, "what": what},
                hint=_("Use a shared cache (Redis, Memcached), or none: then the database."),
                id="oauthflow.W010",
            )
        ]
    return []


def _check_issuer_is_set(typed: Mapping[str, Any]) -> Messages:
    if "ISSUER" not in typed or typed["ISSUER"] is not None or settings.DEBUG:
        return []
    return [
        checks.Warning(
            _(
                "OAUTHFLOW['ISSUER'] is not set: the issuer identifier is taken from each "
                "request's Host header."
            ),
            hint=_(
                "Set it to your server's https URL, e.g. 'https://auth.example.com', so "
                "metadata and the iss parameter (RFC 9207) do not depend on the request."
            ),
            id="oauthflow.W004",
        )
    ]


def _check_insecure_transport(typed: Mapping[str, Any]) -> Messages:
    if typed.get("ALLOW_INSECURE_TRANSPORT") is not True or settings.DEBUG:
        return []
    return [
        checks.Warning(
            _(
                "OAUTHFLOW['ALLOW_INSECURE_TRANSPORT'] is on while DEBUG is off: tokens "
                "and secrets may cross the network in clear."
            ),
            hint=_("Serve the OAuth endpoints over https and remove the setting."),
            id="oauthflow.W001",
        )
    ]


def _check_pkce(typed: Mapping[str, Any]) -> Messages:
    if typed.get("PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS") is not False:
        return []
    return [
        checks.Warning(
            _(
                "PKCE is optional for confidential clients; RFC 9700 §2.1.1 recommends "
                "requiring it of every client."
            ),
            id="oauthflow.W002",
        )
    ]


def _check_adapter(typed: Mapping[str, Any]) -> Messages:
    path = typed.get("ADAPTER")
    if path is None:
        return []
    # Imported here so that importing the checks does not import the policy module (and
    # what it comes to import); only running this check does.
    from .adapter import DefaultAdapter

    try:
        adapter = import_string(path)
    except ImportError as exc:
        return [
            checks.Error(
                _("OAUTHFLOW['ADAPTER'] %(path)r cannot be imported (%(error)s).")
                % {"path": path, "error": exc},
                hint=_(
                    "Give the dotted path of a subclass of "
                    "oauthflow.adapter.DefaultAdapter, e.g. 'myproject.oauth.Adapter'."
                ),
                id="oauthflow.E009",
            )
        ]
    if isinstance(adapter, type) and issubclass(adapter, DefaultAdapter):
        return []
    return [
        checks.Error(
            _(
                "OAUTHFLOW['ADAPTER'] %(path)r is not a subclass of "
                "oauthflow.adapter.DefaultAdapter."
            )
            % {"path": path},
            id="oauthflow.E009",
        )
    ]


def _check_signing_key_encryption(typed: Mapping[str, Any]) -> Messages:
    keys = typed.get("SIGNING_KEY_ENCRYPTION_KEYS")
    if keys is None:
        return []
    # Imported here, as the adapter is above: only running this check loads cryptography.
    from .keys.encryption import as_text, is_fernet_key

    messages: Messages = []
    site_secrets = {
        str(secret)
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        if secret
    }
    for index, key in enumerate(keys):
        # The entry is named by its place, never shown: it is a secret.
        names = {"index": index}
        if as_text(key) in site_secrets:
            messages.append(
                checks.Error(
                    _(
                        "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'][%(index)d] is SECRET_KEY: "
                        "whoever learns one of them would have both."
                    )
                    % names,
                    hint=_(
                        "Use a key of its own: manage.py oauthflow_keys new-encryption-key "
                        "prints one. Put it first, keep this one after it until manage.py "
                        "oauthflow_keys reencrypt has run, then remove it."
                    ),
                    id="oauthflow.E012",
                )
            )
        elif not is_fernet_key(key):
            messages.append(
                checks.Error(
                    _(
                        "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'][%(index)d] is not a Fernet "
                        "key (32 bytes in url-safe base64)."
                    )
                    % names,
                    hint=_("manage.py oauthflow_keys new-encryption-key prints one."),
                    id="oauthflow.E012",
                )
            )
    if keys or not apps.is_installed("oauthflow.oidc"):
        return messages
    if settings.DEBUG:
        messages.append(
            checks.Warning(
                _(
                    "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] is empty: the signing keys are "
                    "encrypted with a development key derived from SECRET_KEY."
                ),
                hint=_(
                    "Fine while developing. Before production, set it to keys of its own "
                    "(manage.py oauthflow_keys new-encryption-key prints one); signing keys "
                    "made before then will not decrypt, so make new ones."
                ),
                id="oauthflow.W008",
            )
        )
    else:
        messages.append(
            checks.Error(
                _(
                    "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] is empty while DEBUG is off: "
                    "OpenID Connect cannot store or use its signing keys."
                ),
                hint=_(
                    "Run manage.py oauthflow_keys new-encryption-key and set the setting to "
                    "a list holding its output, read from the environment like SECRET_KEY."
                ),
                id="oauthflow.E011",
            )
        )
    return messages


#: What OAUTHFLOW['DYNAMIC_REGISTRATION'] may be.
_REGISTRATION_MODES = (False, "initial_access_token", "open")


def _check_dynamic_registration(typed: Mapping[str, Any]) -> Messages:
    mode = typed.get("DYNAMIC_REGISTRATION", False)
    messages: Messages = []
    if mode not in _REGISTRATION_MODES:
        # True among them: "on" must say whether a token is needed.
        messages.append(
            checks.Error(
                _("OAUTHFLOW['DYNAMIC_REGISTRATION'] is %(mode)r.") % {"mode": mode},
                hint=_("Set it to False, 'initial_access_token' or 'open'."),
                id="oauthflow.E016",
            )
        )
    elif mode and not apps.is_installed("oauthflow.registration"):
        messages.append(
            checks.Error(
                _(
                    "OAUTHFLOW['DYNAMIC_REGISTRATION'] is on, but oauthflow.registration is "
                    "not in INSTALLED_APPS: there is no registration endpoint."
                ),
                hint=_("Add 'oauthflow.registration' to INSTALLED_APPS, after 'oauthflow'."),
                id="oauthflow.E016",
            )
        )
    registration_scopes = typed.get("REGISTRATION_SCOPES")
    if registration_scopes is not None and not registration_scopes:
        # An empty list would leave a registered client no scope to be given.
        messages.append(
            checks.Error(
                _("OAUTHFLOW['REGISTRATION_SCOPES'] is empty: registered clients get no scope."),
                hint=_("Name the scopes registered clients may have, or None for all of them."),
                id="oauthflow.E016",
            )
        )
    # SCOPES and what installed capabilities add (openid, profile... with oauthflow.oidc).
    known = known_scopes() if "SCOPES" in typed else None
    unknown = [s for s in registration_scopes or () if s not in (known or {})]
    if unknown and known is not None:
        messages.append(
            checks.Error(
                _("OAUTHFLOW['REGISTRATION_SCOPES'] names scopes not in SCOPES: %(unknown)s.")
                % {"unknown": ", ".join(map(str, unknown))},
                id="oauthflow.E016",
            )
        )
    grant_types = typed.get("REGISTRATION_GRANT_TYPES")
    if mode and grant_types is not None:
        from .server.registry import registry

        # The default names the device grant, served only with oauthflow.device: a grant
        # of a capability not installed is simply not offered. Anything else is a typo.
        served = registry.grant_types()
        optional = DEFAULTS["REGISTRATION_GRANT_TYPES"]
        strange = [g for g in grant_types if g not in served and g not in optional]
        if strange:
            messages.append(
                checks.Error(
                    _(
                        "OAUTHFLOW['REGISTRATION_GRANT_TYPES'] names grant types this server "
                        "does not serve: %(strange)s."
                    )
                    % {"strange": ", ".join(map(str, strange))},
                    hint=_("Choose from %(served)s.") % {"served": ", ".join(served)},
                    id="oauthflow.E016",
                )
            )
    if mode == "open":
        messages.append(
            checks.Warning(
                _(
                    "OAUTHFLOW['DYNAMIC_REGISTRATION'] is 'open': anyone who can reach "
                    "/oauth/register/ can register a client, with the name and logo of their "
                    "choice on the consent page."
                ),
                hint=_(
                    "Use 'initial_access_token' and hand out tokens (manage.py "
                    "oauthflow_registration_token create), unless open registration is what "
                    "you mean; then rate-limit the endpoint."
                ),
                id="oauthflow.W013",
            )
        )
    return messages


def _check_client_assertion_algorithms(typed: Mapping[str, Any]) -> Messages:
    algorithms = typed.get("CLIENT_ASSERTION_SIGNING_ALGS")
    if algorithms is None or not apps.is_installed("oauthflow.private_key_jwt"):
        return []
    from .private_key_jwt.assertion import SUPPORTED_ALGORITHMS

    strange = [a for a in algorithms if a not in SUPPORTED_ALGORITHMS]
    if not strange and algorithms:
        return []
    return [
        checks.Error(
            _(
                "OAUTHFLOW['CLIENT_ASSERTION_SIGNING_ALGS'] must name algorithms oauthflow "
                "verifies for client assertions, and at least one; it names: %(algs)s."
            )
            % {"algs": ", ".join(map(str, algorithms)) or "-"},
            hint=_("Choose from %(supported)s (never none or HMAC).")
            % {"supported": ", ".join(SUPPORTED_ALGORITHMS)},
            id="oauthflow.E017",
        )
    ]


# In the order their messages come out (the order before they were split up).
_CROSS_CHECKS: tuple[Callable[[Mapping[str, Any]], Messages], ...] = (
    _check_refresh_lifetimes,
    _check_scopes,
    _check_default_scopes,
    _check_issuer,
    _check_resource,
    _check_verification_uri,
    _check_token_cache,
    _check_dpop_replay_cache,
    _check_client_assertion_replay_cache,
    _check_client_assertion_algorithms,
    _check_dpop_in_transactions,
    _check_dpop_nonces_with_drf,
    _check_issuer_is_set,
    _check_insecure_transport,
    _check_pkce,
    _check_adapter,
    _check_signing_key_encryption,
    _check_dynamic_registration,
)
