"""The one reader of ``settings.OAUTHFLOW``, and the one description of its keys.

Everything else asks ``oauthflow_settings.NAME``. Defaults give the RFC 9700 / OAuth 2.1
behaviour, so a site that sets nothing is safe. The object is rebuilt when a test
overrides ``OAUTHFLOW`` (the ``setting_changed`` signal), in the manner of DRF's
``api_settings``.

:data:`SETTINGS` describes every key once: its default, type, bounds and documentation.
The defaults, the system checks (``oauthflow.checks``) and the tables in
``docs/settings.md`` all come from it; ``python -m oauthflow.settings --write
docs/settings.md`` (``make docs``) rewrites those tables.
"""

from __future__ import annotations

import argparse
import builtins
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

#: The sections of ``docs/settings.md``, in page order, each with the words above its table.
SECTIONS: dict[str, str] = {
    "Scopes": "",
    "Lifetimes": "In seconds. The system checks refuse values outside the bounds.",
    "The authorization server": "",
    "Resource protection": "Used by the classes that accept tokens in your views "
    "(see [Protecting your API](resource-server.md)).",
    "OpenID Connect": "Used when `oauthflow.oidc` is in `INSTALLED_APPS` "
    "(see [OpenID Connect](openid-connect.md)).",
    "Device authorization": "Used when `oauthflow.device` is in `INSTALLED_APPS` "
    "(see [Device authorization](device.md)).",
    "DPoP": "Used when `oauthflow.dpop` is in `INSTALLED_APPS` (see [DPoP](dpop.md)).",
    "Pushed authorization requests": "Used when `oauthflow.par` is in `INSTALLED_APPS` "
    "(see [Pushed authorization requests](par.md)).",
    "Client authentication with keys": "Used when `oauthflow.private_key_jwt` is in "
    "`INSTALLED_APPS` (see [private_key_jwt](private-key-jwt.md)).",
    "Dynamic client registration": "Used when `oauthflow.registration` is in "
    "`INSTALLED_APPS` (see [Dynamic client registration](registration.md)).",
    "Operations": "",
    "Policy": "",
}


@dataclass(frozen=True)
class Setting:
    """One key of ``OAUTHFLOW``."""

    name: str
    default: Any
    #: What ``isinstance`` must accept. ``bool`` passes only if named: it is an ``int``
    #: subclass, but a lifetime of ``True`` is a mistake, not one second.
    type: type | tuple[type, ...]
    #: One of :data:`SECTIONS`.
    section: str
    #: The paragraph ``docs/settings.md`` shows (Markdown).
    description: str
    #: Inclusive ``(low, high)``; ``high`` None means no upper bound.
    bounds: tuple[int, int | None] | None = None
    #: What the number counts, for messages and docs ("seconds"); empty for a plain count.
    unit: str = ""

    def __post_init__(self) -> None:
        # A mistake in the table fails at import, not as a wrong check or a wrong page.
        if self.section not in SECTIONS:
            raise ValueError(f"{self.name}: unknown docs section {self.section!r}")
        if not self.accepts(self.default):
            raise ValueError(f"{self.name}: the default does not have the setting's type")

    @property
    def types(self) -> tuple[builtins.type, ...]:  # builtins: the field ``type`` shadows it
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has this setting's type."""
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)


_DAY = 24 * 3600

#: Every key a site may set, in the order ``docs/settings.md`` lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        name="SCOPES",
        default={"read": "Read your data", "write": "Change your data"},
        type=dict,
        section="Scopes",
        description="The scopes this server knows, each with the words the consent page "
        'shows the user. A scope name is printable ASCII without spaces, `"` or `\\` '
        "(RFC 6749 §3.3). A client may only be given scopes listed here.",
    ),
    Setting(
        name="DEFAULT_SCOPES",
        default=[],
        type=(list, tuple),
        section="Scopes",
        description="Scopes granted when a client asks for none and has no default scopes "
        "of its own. Empty: such a request fails with `invalid_scope`. Each must be in "
        "`SCOPES`.",
    ),
    Setting(
        name="AUTHORIZATION_CODE_LIFETIME",
        default=60,
        type=int,
        section="Lifetimes",
        description="How long an authorization code may wait to be exchanged. "
        "RFC 6749 §4.1.2 allows at most 10 minutes.",
        bounds=(1, 600),
        unit="seconds",
    ),
    Setting(
        name="ACCESS_TOKEN_LIFETIME",
        default=3600,
        type=int,
        section="Lifetimes",
        description="How long an access token is accepted.",
        bounds=(1, _DAY),
        unit="seconds",
    ),
    Setting(
        name="JWT_ACCESS_TOKEN_LIFETIME",
        default=300,
        type=int,
        section="Lifetimes",
        description="How long a JWT access token is accepted, unless its resource says "
        "otherwise. Short, because an API that verifies it alone cannot see a revocation "
        "unless it shares `TOKEN_CACHE` with the provider.",
        bounds=(1, _DAY),
        unit="seconds",
    ),
    Setting(
        name="REFRESH_TOKEN_IDLE_LIFETIME",
        default=30 * _DAY,
        type=int,
        section="Lifetimes",
        description="A refresh token not used for this long dies. Each refresh issues a "
        "new one with a fresh idle lifetime.",
        bounds=(60, 366 * _DAY),
        unit="seconds",
    ),
    Setting(
        name="REFRESH_TOKEN_ABSOLUTE_LIFETIME",
        default=90 * _DAY,
        type=int,
        section="Lifetimes",
        description="However often it is refreshed, an authorization ends this long after "
        "the user granted it. Must not be shorter than the idle lifetime.",
        bounds=(60, 5 * 366 * _DAY),
        unit="seconds",
    ),
    Setting(
        name="REFRESH_TOKEN_REUSE_GRACE",
        default=0,
        type=int,
        section="Lifetimes",
        description="For this long after a refresh token is rotated, the same client "
        "presenting it again (a retry after a lost response) gets a new working pair "
        "instead of having the authorization revoked; the pair the lost response carried "
        "is superseded (presenting its refresh token is reuse), and only one retry is "
        "granted. `0`, the default, treats every second use as theft (RFC 9700 §4.14.2). "
        "The trade-off: within the window, a thief who replays a stolen refresh token "
        "right after the client used it gets the working pair until the client next "
        "refreshes. See [the flow](flow.md#3-refreshing).",
        bounds=(0, 300),
        unit="seconds",
    ),
    Setting(
        name="ISSUER",
        default=None,
        type=(str, type(None)),
        section="The authorization server",
        description="The issuer identifier (RFC 8414, RFC 9207), e.g. "
        '`"https://auth.example.com"`: an absolute https URL without query or fragment. '
        "`None` derives it from each request's scheme and host, which suits development; "
        "with `DEBUG` off it raises warning `oauthflow.W004`, because then the Host header "
        "decides the issuer.",
    ),
    Setting(
        name="PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS",
        default=True,
        type=bool,
        section="The authorization server",
        description="PKCE is always required of public clients; this requires it of "
        "confidential clients too (RFC 9700 §2.1.1, OAuth 2.1). Turning it off raises "
        "warning `oauthflow.W002`.",
    ),
    Setting(
        name="ALLOW_INSECURE_TRANSPORT",
        default=False,
        type=bool,
        section="The authorization server",
        description="Accept OAuth requests over plain http from hosts other than loopback. "
        "Only for tests; with `DEBUG` off it raises warning `oauthflow.W001`.",
    ),
    Setting(
        name="REVOKE_TOKENS_ON_PASSWORD_CHANGE",
        default=True,
        type=bool,
        section="The authorization server",
        description="When a user's password changes, revoke every code and token issued "
        "for them, as Django ends their other sessions: whoever learned the old password "
        "may have authorized an app with it. Costs one query when a user is saved with "
        "the password field; `False` keeps their authorizations.",
    ),
    Setting(
        name="REALM",
        default="api",
        type=str,
        section="Resource protection",
        description="The realm of the `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).",
    ),
    Setting(
        name="READ_SCOPE",
        default="read",
        type=str,
        section="Resource protection",
        description="The scope safe methods (GET, HEAD, OPTIONS) need under "
        "`TokenHasReadWriteScope`.",
    ),
    Setting(
        name="WRITE_SCOPE",
        default="write",
        type=str,
        section="Resource protection",
        description="The scope other methods need under `TokenHasReadWriteScope`.",
    ),
    Setting(
        name="ALLOW_FORM_BODY_TOKEN",
        default=False,
        type=bool,
        section="Resource protection",
        description="Also accept the token in a form-encoded request body (RFC 6750 §2.2). "
        "Off because such tokens are easy to leak. The query string is never accepted.",
    ),
    Setting(
        name="RESOURCE",
        default=None,
        type=(str, type(None)),
        section="Resource protection",
        description="This API's resource identifier (RFC 8707), e.g. "
        '`"https://api.example.com/"`: a JWT access token is accepted only when its `aud` '
        "names it. `None`: JWT access tokens are refused here (opaque tokens, which the "
        "database vouches for, are accepted as before).",
    ),
    Setting(
        name="JWKS_URI",
        default=None,
        type=(str, type(None)),
        section="Resource protection",
        description="Where an API on another host fetches the provider's public keys to "
        "verify JWT access tokens. `None`: on the provider's host, its own keys; elsewhere, "
        "the `jwks_uri` of `ISSUER`'s metadata. See [JWT access tokens](jwt-access-tokens.md).",
    ),
    Setting(
        name="TOKEN_CACHE",
        default=None,
        type=(str, type(None)),
        section="Resource protection",
        description="The alias of a Django cache (`settings.CACHES`) that caches token "
        "lookups, or `None` for no cache.",
    ),
    Setting(
        name="SIGNING_KEY_ENCRYPTION_KEYS",
        default=[],
        type=(list, tuple),
        section="OpenID Connect",
        description="Keys that encrypt the private signing keys in the database (Fernet "
        "keys: `manage.py oauthflow_keys new-encryption-key` prints one). The first "
        "encrypts; every one decrypts, so a new one goes first and an old one stays until "
        "`oauthflow_keys reencrypt` has run. Keep them out of the code, like `SECRET_KEY`, "
        "but not equal to it (error `oauthflow.E012`, as for a value that is not a Fernet "
        "key). Empty: error `oauthflow.E011` with `DEBUG` off; with `DEBUG` on, warning "
        "`oauthflow.W008` and a key derived from `SECRET_KEY`, for development only.",
    ),
    Setting(
        name="ID_TOKEN_LIFETIME",
        default=3600,
        type=int,
        section="OpenID Connect",
        description="How long an ID token is valid (its `exp`). A signing key that "
        "stops signing (superseded by a newer one, or retired) stays published this long "
        "after it last signed, and a minute more: the time every process takes to notice.",
        bounds=(60, _DAY),
        unit="seconds",
    ),
    Setting(
        name="SIGNING_KEY_PUBLISH_DELAY",
        default=3600,
        type=int,
        section="OpenID Connect",
        description="A key made by `oauthflow_keys rotate` (or `create` without `--now`) "
        "is published at once and signs only after this delay, so relying parties that "
        "cache the JWKS (it is served with `max-age=600`) know it before they meet it. "
        "Keep it at least 660 seconds: the JWKS's 600, and a minute for every process to "
        "read the new key.",
        bounds=(0, 30 * _DAY),
        unit="seconds",
    ),
    Setting(
        name="BACKCHANNEL_LOGOUT_TIMEOUT",
        default=5,
        type=int,
        section="OpenID Connect",
        description="When a session ends, how long the logout waits for the clients' "
        "back-channel logout URIs (told in parallel) before it goes on; a client slower "
        "than this is logged and left behind (OpenID Connect Back-Channel Logout 1.0).",
        bounds=(1, 30),
        unit="seconds",
    ),
    Setting(
        name="LOGOUT_REVOKES_TOKENS",
        default=True,
        type=bool,
        section="OpenID Connect",
        description="When a user signs out, revoke the tokens of the OpenID Connect "
        "sign-ins made in that browser session (their refresh tokens too), as the "
        "relying parties are told the session ended. `False` keeps them: the clients "
        "still hear of the logout.",
    ),
    Setting(
        name="DEVICE_CODE_LIFETIME",
        default=600,
        type=int,
        section="Device authorization",
        description="How long a device code and its user code wait for the user "
        "(`expires_in`, RFC 8628 §3.2). Longer gives guessers more time: see the "
        "arithmetic in [Device authorization](device.md).",
        bounds=(60, 1800),
        unit="seconds",
    ),
    Setting(
        name="DEVICE_POLLING_INTERVAL",
        default=5,
        type=int,
        section="Device authorization",
        description="The `interval` a device is told to wait between polls; each "
        "`slow_down` adds 5 seconds for that device code (RFC 8628 §3.5).",
        bounds=(1, 60),
        unit="seconds",
    ),
    Setting(
        name="DEVICE_VERIFICATION_URI",
        default="",
        type=str,
        section="Device authorization",
        description="The absolute `verification_uri` devices show, when it is not the "
        "issuer plus `/oauth/device/`: a short URL people can type, such as "
        "`https://example.com/device`, which the site routes to oauthflow's page.",
    ),
    Setting(
        name="DEVICE_USER_FAILURES",
        default=5,
        type=int,
        section="Device authorization",
        description="Wrong user codes one signed-in user may enter in "
        "`DEVICE_FAILURE_WINDOW` before the page refuses them until the window ends "
        "(RFC 8628 §5.1).",
        bounds=(1, 100),
    ),
    Setting(
        name="DEVICE_ADDRESS_FAILURES",
        default=20,
        type=int,
        section="Device authorization",
        description="Wrong user codes from one client address (the adapter's "
        "`get_client_address`) in `DEVICE_FAILURE_WINDOW`, whoever is signed in, before "
        "that address is refused until the window ends.",
        bounds=(1, 10_000),
    ),
    Setting(
        name="DEVICE_FAILURE_WINDOW",
        default=900,
        type=int,
        section="Device authorization",
        description="The window the two limits above count in, from the first wrong code; "
        "reaching a limit locks the user or the address out until it ends.",
        bounds=(60, _DAY),
        unit="seconds",
    ),
    Setting(
        name="DPOP_PROOF_MAX_AGE",
        default=60,
        type=int,
        section="DPoP",
        description="How old a DPoP proof may be (its `iat`), at the token endpoint and at "
        "APIs; one up to 30 seconds in the future is accepted for clock skew. Its `jti` is "
        "remembered this long and a bit more, so a proof is used once.",
        bounds=(5, 600),
        unit="seconds",
    ),
    Setting(
        name="DPOP_NONCES",
        default=False,
        type=bool,
        section="DPoP",
        description="Ask for server-provided nonces in DPoP proofs (RFC 9449 §8, §9): a "
        "proof without a fresh nonce gets `use_dpop_nonce` and a `DPoP-Nonce` header to "
        "retry with. Limits proofs made ahead of time, and clock trouble on clients.",
    ),
    Setting(
        name="DPOP_REPLAY_CACHE",
        default=None,
        type=(str, type(None)),
        section="DPoP",
        description="The cache (a key of `CACHES`) that remembers the `jti` of each DPoP "
        "proof, shared by every process and API host: one `add` per request. `None`: "
        "`TOKEN_CACHE` if set, else the database (one INSERT per request, cleared by "
        "`oauthflow_cleartokens`). Never a per-process cache.",
    ),
    Setting(
        name="PAR_LIFETIME",
        default=60,
        type=int,
        section="Pushed authorization requests",
        description="How long a pushed request's `request_uri` waits for the browser "
        "(`expires_in`, RFC 9126 §2.2). Once a browser brings it, that browser's session "
        "keeps the request for the sign-in and consent that follow.",
        bounds=(5, 600),
        unit="seconds",
    ),
    Setting(
        name="REQUIRE_PUSHED_AUTHORIZATION_REQUESTS",
        default=False,
        type=bool,
        section="Pushed authorization requests",
        description="Refuse every authorization request that was not pushed first, for "
        "every client (RFC 9126 §5); the metadata then says "
        "`require_pushed_authorization_requests`. A client can be held to it alone.",
    ),
    Setting(
        name="CLIENT_ASSERTION_SIGNING_ALGS",
        default=["ES256", "ES384", "PS256", "RS256"],
        type=(list, tuple),
        section="Client authentication with keys",
        description="The algorithms a client assertion may be signed with (the allow-list; "
        "`token_endpoint_auth_signing_alg_values_supported`). Asymmetric only: oauthflow "
        "verifies ES256, ES384, PS256 and RS256.",
    ),
    Setting(
        name="CLIENT_ASSERTION_MAX_LIFETIME",
        default=300,
        type=int,
        section="Client authentication with keys",
        description="How far ahead of now a client assertion's `exp` may be. Its `jti` is "
        "remembered until then, so a longer-lived assertion would be refused rather than "
        "remembered for long.",
        bounds=(30, 3600),
        unit="seconds",
    ),
    Setting(
        name="CLIENT_ASSERTION_REPLAY_CACHE",
        default=None,
        type=(str, type(None)),
        section="Client authentication with keys",
        description="The cache (a key of `CACHES`) that remembers the `jti` of each client "
        "assertion, shared by every process: one `add` per authentication. `None`: "
        "`TOKEN_CACHE` if set, else the database (one INSERT, cleared by "
        "`oauthflow_cleartokens`). Never a per-process cache.",
    ),
    Setting(
        name="DYNAMIC_REGISTRATION",
        default=False,
        type=(bool, str),
        section="Dynamic client registration",
        description="Whether clients may register themselves at `/oauth/register/` "
        "(RFC 7591) and manage their registration (RFC 7592). `False`: off. "
        '`"initial_access_token"`: only with a token from `manage.py '
        'oauthflow_registration_token create`. `"open"`: anyone may register a client '
        "(warning `oauthflow.W013`).",
    ),
    Setting(
        name="REGISTRATION_SCOPES",
        default=None,
        type=(list, tuple, type(None)),
        section="Dynamic client registration",
        description="The scopes a registered client may be given (its `scope`); one that "
        "asks for none gets all of these, stored by name (a scope added to the site later "
        "is not given to it). `None`: every scope the server knows at registration "
        "(`SCOPES`, and `openid` and the claims scopes with `oauthflow.oidc`). Not empty.",
    ),
    Setting(
        name="REGISTRATION_GRANT_TYPES",
        default=[
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        type=(list, tuple),
        section="Dynamic client registration",
        description="The grant types a registered client may ask for, of those the server "
        "serves. `client_credentials` is left out by default: it gets tokens without "
        "any user's say, so such clients are for staff to create.",
    ),
    Setting(
        name="CLEARTOKENS_BATCH_SIZE",
        default=10_000,
        type=int,
        section="Operations",
        description="Rows `manage.py oauthflow_cleartokens` deletes per batch, each batch "
        "in its own short transaction. `--batch-size` overrides it for one run. See "
        "[operations](operations.md).",
        bounds=(1, None),
    ),
    Setting(
        name="ADAPTER",
        default="oauthflow.adapter.DefaultAdapter",
        type=str,
        section="Policy",
        description="The import path of the class that holds site policy: the subject "
        "identifier, claims, when consent may be skipped, the access token format. See "
        "`oauthflow.adapter`.",
    ),
)

#: Every key a site may set, with its default.
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


class OAuthFlowSettings:
    """Attribute access to ``settings.OAUTHFLOW`` merged over :data:`DEFAULTS`.

    Unknown keys are kept out of the attributes and reported by the system checks
    (``oauthflow.checks``) rather than raising here, so a typo shows up at start-up with
    a clear message instead of as an ``AttributeError`` deep in a request.
    """

    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
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


# The tables of docs/settings.md ------------------------------------------------------------
# Only SETTINGS and SECTIONS are read here, never django.conf.settings, so that `make docs`
# runs without a Django project.

#: The generated part of ``docs/settings.md`` lies between these two lines.
DOCS_START = "<!-- settings:start: generated from oauthflow/settings.py by `make docs` -->"
DOCS_END = "<!-- settings:end -->"


def render_docs() -> str:
    """The settings sections of ``docs/settings.md``: a heading and a table for each."""
    return "\n\n".join(_render_section(section) for section in SECTIONS) + "\n"


def _render_section(section: str) -> str:
    rows = [setting for setting in SETTINGS if setting.section == section]
    with_bounds = any(setting.bounds for setting in rows)
    header = ["key", "default", *(["bounds"] if with_bounds else []), "meaning"]
    lines = [_row(header), _row(["---"] * len(header))]
    for setting in rows:
        bounds = [_bounds(setting)] if with_bounds else []
        lines.append(_row([f"`{setting.name}`", _default(setting), *bounds, setting.description]))
    intro = SECTIONS[section]
    return "\n\n".join([f"## {section}", *([intro] if intro else []), "\n".join(lines)])


def _row(cells: list[str]) -> str:
    # A "|" inside a cell would end it.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _default(setting: Setting) -> str:
    text = f"`{_literal(setting.default)}`"
    if setting.unit == "seconds" and setting.default:
        text += f" ({_duration(setting.default)})"
    return text


def _literal(value: Any) -> str:
    """``value`` as a site would write it in settings.py, with double-quoted strings."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return repr(value)


def _duration(seconds: int) -> str:
    for size, unit in ((_DAY, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _bounds(setting: Setting) -> str:
    if setting.bounds is None:
        return ""
    low, high = setting.bounds
    if high is None:
        return f"at least {_number(low)}"
    return f"{_number(low)} \N{EN DASH} {_number(high)}"


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def replace_docs(text: str) -> str:
    """``text`` (the whole ``docs/settings.md``) with its generated part rendered afresh."""
    before, start, rest = text.partition(DOCS_START + "\n")
    _, end, after = rest.partition(DOCS_END + "\n")
    if not start or not end:
        raise ValueError(f"the markers {DOCS_START!r} and {DOCS_END!r} are missing")
    return before + start + "\n" + render_docs() + "\n" + end + after


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oauthflow.settings",
        description="Print the settings tables of docs/settings.md, or rewrite them there.",
    )
    parser.add_argument("--write", type=Path, metavar="FILE", help="rewrite FILE in place")
    args = parser.parse_args(argv)
    if args.write is None:
        sys.stdout.write(render_docs())
        return 0
    text = args.write.read_text(encoding="utf-8")
    args.write.write_text(replace_docs(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
