"""May the server send a request to this URL on a client's behalf?

A client chooses some URLs the server itself fetches or posts to (its ``jwks_uri``, its
``backchannel_logout_uri``). Whoever registers a client must not be able to point the
server at its own network (SSRF): such a URL's host has to be on the public internet.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from .redirect_uris import is_loopback_host
from .settings import oauthflow_settings


def public_host(url: str) -> bool:
    """Whether every address ``url``'s host resolves to is a public one (not private,
    loopback, link-local, reserved...). Loopback passes with DEBUG or ALLOW_INSECURE_TRANSPORT,
    for development and tests. The address is looked up again to connect: a name whose
    answers change in between (DNS rebinding) is not caught."""
    host = urlsplit(url).hostname
    if not host:
        return False
    development = settings.DEBUG or oauthflow_settings.ALLOW_INSECURE_TRANSPORT
    if development and is_loopback_host(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]) for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses
    )
