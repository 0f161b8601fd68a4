"""Access token validation: from a presented value to the token it grants, or why not.

Scheme-agnostic: the value may come as a Bearer token or, later, bound to a key (DPoP);
every way of protecting a resource (``oauthflow.rest_framework``, the decorators) and
introspection ask :func:`validate`, and only it.

* A value no token format recognises is refused before any hashing or query.
* A self-contained format is verified by the format itself, with no database.
* A stored format (opaque tokens): one indexed query, the digest lookup with the client
  and the user joined in, so checking them, and the view using ``request.user``, cost
  nothing more. With ``OAUTHFLOW["TOKEN_CACHE"]`` set, a token seen recently costs no
  query at all (``oauthflow.resource.cache`` explains how revocations still take effect
  at once). Either way the store's one validity rule decides.
* Logs name a token by its hint, never its value.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import formats, tokens
from ..models import AccessToken
from ..store import lookups
from ..store.validity import Refusal, refusal
from . import cache as token_cache

# The name sites configure logging by (it predates this module).
logger = logging.getLogger("oauthflow.bearer")

#: What an ``invalid_token`` answer says for each refusal (RFC 6750 §3.1).
DESCRIPTIONS = {
    Refusal.MALFORMED: "The access token is malformed.",
    Refusal.UNKNOWN: "The access token is unknown.",
    Refusal.REVOKED: "The access token was revoked.",
    Refusal.EXPIRED: "The access token expired.",
    Refusal.USED: "The access token was revoked.",  # access tokens are never "used"
    Refusal.CLIENT_INACTIVE: "The client of the access token is disabled.",
    Refusal.USER_INACTIVE: "The user of the access token is inactive.",
}


def validate(value: str) -> Any:
    """The live token for ``value`` or a :class:`~oauthflow.store.validity.Refusal`.

    For stored formats the token is the AccessToken row, ``client`` and ``user`` loaded.
    """
    token_format = formats.recognise(value)
    if token_format is None:
        return Refusal.MALFORMED
    if token_format.self_contained:
        return token_format.verify(value)
    return _validate_stored(value)


def _validate_stored(value: str) -> AccessToken | Refusal:
    digest = tokens.digest(value)
    cache = token_cache.get_cache()
    cached = None if cache is None else token_cache.load(cache, digest)
    if isinstance(cached, AccessToken):
        return _check(cached)
    token = lookups.access_token.get(digest)
    if token is None:
        logger.debug("Access token refused: unknown.")
        return Refusal.UNKNOWN
    verdict = _check(token)
    # Only valid tokens are cached, and never over a stale marker.
    if cache is not None and cached is None and verdict is token:
        token_cache.store(cache, token)
    return verdict


def _check(token: AccessToken) -> AccessToken | Refusal:
    # The cache path takes this too: a cached token still expires on time.
    reason = refusal(token)
    if reason is None:
        return token
    logger.debug("Access token %s refused: %s.", token.hint, reason.value)
    return reason
