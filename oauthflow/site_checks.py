"""System checks on how the site around oauthflow is set up: the login page users are sent
to, the issuer's host, clients that name scopes the server no longer has, and JWT access
tokens that no revocation can reach.

``oauthflow.checks`` checks ``OAUTHFLOW`` itself; these look at the rest of the project.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http.request import split_domain_port, validate_host
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

Messages = list[checks.CheckMessage]


@checks.register(checks.Tags.urls, "oauthflow")
def check_login_url(app_configs: Any = None, **kwargs: Any) -> Messages:
    """The authorization endpoint sends users who are not signed in to LOGIN_URL: a name
    that does not resolve is a 500 at the first authorization request."""
    login_url = str(settings.LOGIN_URL)
    try:
        url = resolve_url(login_url)
    except NoReverseMatch:
        return [
            checks.Error(
                _(
                    "settings.LOGIN_URL is %(url)r, which names no URL of this site: users "
                    "who are not signed in cannot be sent to sign in before they consent."
                )
                % {"url": login_url},
                hint=_(
                    "Use oauthflow's sign-in page, LOGIN_URL = 'oauthflow:login' (it comes "
                    "with include('oauthflow.urls')), or name your own login view."
                ),
                id="oauthflow.E010",
            )
        ]
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return []  # a sign-in page on another host: nothing to check here
    try:
        resolve(parts.path)
    except Resolver404:
        return [
            checks.Warning(
                _("settings.LOGIN_URL is %(url)r, which no URL pattern of this site serves.")
                % {"url": url},
                hint=_("Use LOGIN_URL = 'oauthflow:login', or add your login view's URL."),
                id="oauthflow.W006",
            )
        ]
    return []


@checks.register(checks.Tags.security, "oauthflow")
def check_issuer_host(app_configs: Any = None, **kwargs: Any) -> Messages:
    """An ISSUER copied from the docs into a development site sends clients elsewhere."""
    configured = getattr(settings, "OAUTHFLOW", {})
    issuer = configured.get("ISSUER") if isinstance(configured, dict) else None
    if not isinstance(issuer, str):
        return []
    host, _port = split_domain_port(urlsplit(issuer).netloc.rpartition("@")[2])
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # what Django allows then
    if not host or validate_host(host, allowed):
        return []
    return [
        checks.Warning(
            _(
                "OAUTHFLOW['ISSUER'] names the host %(host)r, which is not in ALLOWED_HOSTS: "
                "the metadata and every authorization response send clients to another site."
            )
            % {"host": host},
            hint=_(
                "Set ISSUER to this site's own https URL, in production; leave it unset "
                "in development (it then follows each request's host)."
            ),
            id="oauthflow.W005",
        )
    ]


@checks.register(checks.Tags.security, "oauthflow")
def check_client_scopes(app_configs: Any = None, **kwargs: Any) -> Messages:
    """Clients that still list a scope removed from OAUTHFLOW['SCOPES']: their requests for
    it fail, and an empty allowed list no longer means what it did."""
    from .models import Client
    from .scope import known_scopes, scope_to_list

    scopes = known_scopes()
    known = set(scopes) if isinstance(scopes, dict) else set()  # a bad type is E003's
    try:
        rows = list(Client.objects.values_list("name", "allowed_scopes", "default_scopes"))
    except Exception:
        # No tables yet (before migrate), no database reachable, or no access allowed
        # (a test): nothing to check, and a check must never stop the command.
        return []
    stale = sorted(
        {
            name
            for name, allowed, default in rows
            if set(scope_to_list(allowed)) - known or set(scope_to_list(default)) - known
        }
    )
    if not stale:
        return []
    shown = ", ".join(repr(name) for name in stale[:5]) + (" …" if len(stale) > 5 else "")
    count = len(stale)
    return [
        checks.Warning(
            ngettext(
                "%(count)d client lists scopes that are not in OAUTHFLOW['SCOPES']: %(names)s.",
                "%(count)d clients list scopes that are not in OAUTHFLOW['SCOPES']: %(names)s.",
                count,
            )
            % {"count": count, "names": shown},
            hint=_(
                "Edit their allowed and default scopes (admin or oauthflow_client), or put "
                "the scopes back in OAUTHFLOW['SCOPES']."
            ),
            id="oauthflow.W007",
        )
    ]


@checks.register(checks.Tags.security, "oauthflow")
def check_jwt_revocation(app_configs: Any = None, **kwargs: Any) -> Messages:
    """An API checks a JWT access token alone: only a stale marker in a cache it shares with
    the provider (TOKEN_CACHE) tells it of a revocation. Without one, a revoked token works
    there until it expires."""
    from .models import Resource
    from .settings import DEFAULTS

    configured = getattr(settings, "OAUTHFLOW", {})
    if not isinstance(configured, dict) or configured.get("TOKEN_CACHE") is not None:
        return []  # a cache is set (a bad one is E003's, E008's or W003's)
    default = configured.get("JWT_ACCESS_TOKEN_LIFETIME", DEFAULTS["JWT_ACCESS_TOKEN_LIFETIME"])
    if not isinstance(default, int) or isinstance(default, bool):
        return []  # E003's
    try:
        rows = list(
            Resource.objects.filter(is_active=True, token_format=Resource.JWT)
            .order_by("identifier")
            .values_list("identifier", "access_token_lifetime")
        )
    except Exception:
        # No tables yet (before migrate), no database reachable, or no access allowed
        # (a test): nothing to check, and a check must never stop the command.
        return []
    if not rows:
        return []
    identifiers = [identifier for identifier, _lifetime in rows]
    own = [lifetime for _identifier, lifetime in rows if lifetime]
    longest = max(lifetime or default for _identifier, lifetime in rows)
    shown = ", ".join(identifiers[:5]) + (" …" if len(identifiers) > 5 else "")
    names = {"count": len(rows), "resources": shown, "longest": longest, "default": default}
    if own:
        names["own"] = max(own)
        lifetimes = _(
            "JWT_ACCESS_TOKEN_LIFETIME is %(default)d seconds; the longest lifetime a "
            "resource sets is %(own)d seconds"
        )
    else:
        lifetimes = _("JWT_ACCESS_TOKEN_LIFETIME; no resource sets a lifetime of its own")
    return [
        checks.Warning(
            ngettext(
                "%(count)d active resource takes JWT access tokens (%(resources)s) and "
                "OAUTHFLOW['TOKEN_CACHE'] is not set: a revoked JWT access token stays valid "
                "until it expires, up to %(longest)d seconds after it was issued "
                "(%(lifetimes)s).",
                "%(count)d active resources take JWT access tokens (%(resources)s) and "
                "OAUTHFLOW['TOKEN_CACHE'] is not set: a revoked JWT access token stays valid "
                "until it expires, up to %(longest)d seconds after it was issued "
                "(%(lifetimes)s).",
                len(rows),
            )
            % {**names, "lifetimes": lifetimes % names},
            hint=_(
                "Set OAUTHFLOW['TOKEN_CACHE'] to a cache the provider shares with the APIs "
                "(Redis, Memcached), and the same on each API: a revocation then marks the "
                "token stale there. Or keep the lifetimes short."
            ),
            id="oauthflow.W009",
        )
    ]
