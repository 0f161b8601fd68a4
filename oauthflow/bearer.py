"""The bearer-token validator: from a presented access token to its live row, or why not.

Everything that protects a resource (``oauthflow.rest_framework``, ``oauthflow.decorators``)
asks :func:`validate`, and only it.

* One indexed query: the digest lookup, with the client and the user joined in, so
  checking them, and the view using ``request.user``, cost nothing more. Its cost does
  not grow with the number of tokens stored.
* With ``OAUTHFLOW["TOKEN_CACHE"]`` set, a token seen recently costs no query at all
  (``oauthflow.token_cache`` explains how revocations still take effect at once).
* A value that cannot be one of our tokens is refused before any hashing or query.
* Logs name a token by its hint, never its value.
"""

from __future__ import annotations

import enum
import logging

from django.utils import timezone

from . import lookups, token_cache, tokens
from .models import AccessToken

logger = logging.getLogger(__name__)


class Rejection(enum.Enum):
    """Why a presented token was refused; the value is the ``error_description`` sent."""

    MALFORMED = "The access token is malformed."
    UNKNOWN = "The access token is unknown."
    REVOKED = "The access token was revoked."
    EXPIRED = "The access token expired."
    CLIENT_INACTIVE = "The client of the access token is disabled."
    USER_INACTIVE = "The user of the access token is inactive."


def validate(value: str) -> AccessToken | Rejection:
    """The live AccessToken for ``value`` (``client`` and ``user`` loaded), or a Rejection."""
    if not tokens.is_plausible(value):
        return Rejection.MALFORMED
    digest = tokens.digest(value)
    cache = token_cache.get_cache()
    cached = None if cache is None else token_cache.load(cache, digest)
    if isinstance(cached, AccessToken):
        return _check(cached)
    token = lookups.access_token.get(digest)
    if token is None:
        logger.debug("Access token refused: unknown.")
        return Rejection.UNKNOWN
    verdict = _check(token)
    # Only valid tokens are cached, and never over a stale marker.
    if cache is not None and cached is None and verdict is token:
        token_cache.store(cache, token)
    return verdict


def _check(token: AccessToken) -> AccessToken | Rejection:
    # The cache path takes this too: a cached token still expires on time.
    if token.revoked_at is not None:
        rejection = Rejection.REVOKED
    elif token.expires_at <= timezone.now():
        rejection = Rejection.EXPIRED
    elif not token.client.is_active:
        rejection = Rejection.CLIENT_INACTIVE
    elif token.user is not None and not getattr(token.user, "is_active", True):
        rejection = Rejection.USER_INACTIVE
    else:
        return token
    logger.debug("Access token %s refused: %s.", token.hint, rejection.name.lower())
    return rejection
