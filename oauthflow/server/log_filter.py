"""Keeping request secrets out of Authlib's debug lines.

Authlib logs at DEBUG the ``client_id`` it authenticates and, in some grants, whole token
dicts. A ``client_id`` is not secret, but a client that swaps its id and secret sends its
secret in that field; a site logging at DEBUG would keep it. So every record below INFO
from Authlib's server modules is dropped; their warnings and errors still pass. oauthflow's
own log lines name credentials by their hint only.
"""

from __future__ import annotations

import logging

#: Authlib's modules that log request values at DEBUG (and their OpenID Connect and
#: RFC 7523 / 8628 siblings, which oauthflow's capabilities will use).
QUIETED = (
    "authlib.oauth2.rfc6749.authenticate_client",
    "authlib.oauth2.rfc6749.grants.authorization_code",
    "authlib.oauth2.rfc6749.grants.client_credentials",
    "authlib.oauth2.rfc6749.grants.implicit",
    "authlib.oauth2.rfc6749.grants.refresh_token",
    "authlib.oauth2.rfc6749.grants.resource_owner_password_credentials",
    "authlib.oauth2.rfc7523.client",
    "authlib.oauth2.rfc7523.jwt_bearer",
    "authlib.oauth2.rfc7523.validator",
    "authlib.oauth2.rfc8628.device_code",
    "authlib.oidc.core.grants.code",
    "authlib.oidc.core.grants.hybrid",
    "authlib.oidc.core.grants.implicit",
)


def drop_debug(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO


def install() -> None:
    """Attach the filter to each module's logger (a filter on a parent would not apply)."""
    for name in QUIETED:
        logger = logging.getLogger(name)
        if drop_debug not in logger.filters:
            logger.addFilter(drop_debug)
