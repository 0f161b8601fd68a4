"""Redirect URI rules: what a client may register, and how a request's URI is matched.

Registration follows RFC 9700 §4.1 and RFC 8252: absolute ASCII URIs, https except for
loopback IP literals and private-use schemes of native apps, no fragment, no userinfo,
no wildcard. Matching is exact string comparison (RFC 9700 §4.1.3); the only exception
is the port of an ``http`` loopback URI, which native apps choose at run time
(RFC 8252 §7.3): everything else, to the last character, must be the same.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_LOOPBACK_NAMES = {"localhost"}
# An http loopback URI split into its host, its port and everything after them. Anything
# else (user information, a malformed port) does not match, so it is never port-varied.
_LOOPBACK_HTTP = re.compile(
    r"http://(?P<host>127(?:\.[0-9]{1,3}){3}|\[::1\]|localhost)"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<rest>[/?].*)?",
    re.DOTALL,
)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_address(address: str | None) -> bool:
    """Whether ``address`` is a loopback IP address (127.0.0.0/8, ::1); names do not count."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket reports an IPv4 peer as ::ffff:127.0.0.1.
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def validate_redirect_uri(uri: str) -> None:
    """Raise ``ValidationError`` unless ``uri`` may be registered as a redirect URI."""
    if not uri or uri != uri.strip() or any(c.isspace() for c in uri):
        raise ValidationError(_("A redirect URI cannot be empty or contain spaces."))
    if not uri.isascii() or not uri.isprintable():
        # A request can only carry printable ASCII (oauthflow.server.request), so such a
        # URI could never match: percent-encode the path, punycode the host.
        raise ValidationError(
            _(
                "%(uri)s must be printable ASCII: percent-encode other characters and write "
                "an international domain name in its xn-- form."
            ),
            params={"uri": uri},
        )
    if "*" in uri:
        raise ValidationError(
            _("Wildcards are not allowed in redirect URIs: %(uri)s"), params={"uri": uri}
        )
    try:
        parts = urlsplit(uri)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError(_("%(uri)s is not a valid URI."), params={"uri": uri}) from exc
    del port
    if not parts.scheme:
        raise ValidationError(_("%(uri)s is not an absolute URI."), params={"uri": uri})
    if "#" in uri:
        raise ValidationError(
            _("A redirect URI cannot have a fragment: %(uri)s"), params={"uri": uri}
        )
    if "@" in parts.netloc:
        raise ValidationError(
            _("A redirect URI cannot carry user information: %(uri)s"), params={"uri": uri}
        )
    scheme = parts.scheme.lower()
    if scheme == "https":
        if not parts.hostname:
            raise ValidationError(_("%(uri)s has no host."), params={"uri": uri})
        return
    if scheme == "http":
        if (parts.hostname or "").lower() in _LOOPBACK_NAMES:
            # RFC 8252 §8.3: the name may resolve elsewhere, or be answered by another
            # program on the other IP family.
            raise ValidationError(
                _(
                    "%(uri)s uses localhost; register the loopback IP literal instead: "
                    "http://127.0.0.1/… or http://[::1]/… (RFC 8252 §8.3)."
                ),
                params={"uri": uri},
            )
        if is_loopback_host(parts.hostname):
            return
        raise ValidationError(
            _(
                "%(uri)s must use https; plain http is only allowed for loopback IP "
                "addresses (127.0.0.1, [::1])."
            ),
            params={"uri": uri},
        )
    if scheme in {"javascript", "data", "file", "vbscript", "blob", "about"}:
        raise ValidationError(_("The scheme of %(uri)s is not allowed."), params={"uri": uri})
    # RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it has a dot.
    if "." not in scheme:
        raise ValidationError(
            _(
                "A private-use URI scheme must be a reverse domain name such as "
                "com.example.app: %(uri)s"
            ),
            params={"uri": uri},
        )


def match_redirect_uri(requested: str, registered: list[str], *, native_loopback: bool) -> bool:
    """True if ``requested`` is one of ``registered``, by exact string comparison.

    ``native_loopback`` (public clients) also accepts an ``http`` loopback URI that
    differs from a registered one only by its port (RFC 8252 §7.3).
    """
    if requested in registered:
        return True
    if not native_loopback:
        return False
    req = _LOOPBACK_HTTP.fullmatch(requested)
    if req is None or req["port"] is None:
        return False
    port = req["port"]
    if not 1 <= int(port) <= 65535 or port != str(int(port)):
        return False  # port 0 asks the system for one; leading zeros are another string
    for uri in registered:
        reg = _LOOPBACK_HTTP.fullmatch(uri)
        if reg is not None and reg["host"] == req["host"] and reg["rest"] == req["rest"]:
            return True
    return False


def origin_of(uri: str) -> str | None:
    """The web origin (RFC 6454) of an https or loopback http URI, as a browser sends it
    in ``Origin``: ``scheme://host[:port]``, lowercase, without the default port."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host or "@" in parts.netloc:
        return None
    if scheme == "http" and not is_loopback_host(host):
        return None
    if scheme not in ("https", "http"):
        return None
    try:  # an IP literal as a browser writes it: 127.0.0.1, [::1]
        address = ipaddress.ip_address(host)
        host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    except ValueError:
        if not host.isascii() or "*" in host:
            return None  # a browser sends the xn-- form, and never a wildcard
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be registered as an allowed origin, or None."""
    if origin_of(origin) != origin:
        return _(
            "%(origin)s is not an origin: write scheme://host[:port] in lowercase, with no "
            "path or trailing slash, using https (or http for a loopback address)."
        ) % {"origin": origin}
    return None
