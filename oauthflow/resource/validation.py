"""Access token validation: from a presented value to the token it grants, or why not.

Scheme-agnostic: the value may come as a Bearer token or, later, bound to a key (DPoP);
every way of protecting a resource (``oauthflow.rest_framework``, the decorators) and
introspection ask :func:`validate`, and only it.

* A value no token format recognises is refused before any hashing or query.
* A self-contained format (JWT access tokens) is verified by the format itself, with no
  database. With ``TOKEN_CACHE`` set, one cache read says whether the provider revoked
  it since (a stale marker): then, on the provider's host, its row decides; on another
  host, it is refused.
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

from django.apps import apps

from .. import formats, tokens
from ..settings import oauthflow_settings
from ..store.validity import Refusal, refusal
from . import markers

# The token cache and the store read oauthflow's tables: imported where used, so an API on
# another host that only verifies JWT access tokens needs neither (see formats.keysource).

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
    Refusal.KEY_BOUND: "The access token is bound to a DPoP key: present it with a proof.",
}


def validate(value: str, *, bound_ok: bool = False) -> Any:
    """The live token for ``value`` or a :class:`~oauthflow.store.validity.Refusal`.

    For stored formats the token is the AccessToken row, ``client`` and ``user`` loaded.
    A token bound to a key (DPoP) is ``Refusal.KEY_BOUND`` unless ``bound_ok``: only a
    caller that checks the proof (an authentication scheme, introspection) takes it.
    """
    verdict = _validate(value)
    if not bound_ok and getattr(verdict, "jkt", None):
        return Refusal.KEY_BOUND
    return verdict


def _validate(value: str) -> Any:
    token_format = formats.recognise(value)
    if token_format is None:
        return Refusal.MALFORMED
    if token_format.self_contained:
        verdict = token_format.verify(value)
        if isinstance(verdict, Refusal) or not oauthflow_settings.TOKEN_CACHE:
            return verdict
        return _revoked_since(value, verdict)
    if not apps.is_installed("oauthflow"):
        # An API on another host: no store to read an opaque token from.
        return Refusal.UNKNOWN
    return _validate_stored(value)


def _revoked_since(value: str, verdict: Any) -> Any:
    """A verified self-contained token, unless the shared cache marks it stale."""
    from django.core.cache import caches

    digest = tokens.digest(value)
    try:
        marker = caches[oauthflow_settings.TOKEN_CACHE].get(markers.KEY_PREFIX + digest)
    except Exception:  # a cache outage: the signature still vouches, as without a cache
        logger.warning("Token cache unreachable while checking a JWT access token.")
        return verdict
    if marker != markers.STALE:
        return verdict
    if not apps.is_installed("oauthflow"):
        return Refusal.REVOKED
    # Stale: revoked, or its client or user changed. The provider's row says which.
    from ..store import lookups

    row = lookups.access_token.get(digest)
    if row is None:
        return Refusal.UNKNOWN
    reason = refusal(row)
    return verdict if reason is None else reason


def _validate_stored(value: str) -> Any:
    from ..store import lookups
    from . import cache as token_cache

    digest = tokens.digest(value)
    cache = token_cache.get_cache()
    cached = None if cache is None else token_cache.load(cache, digest)
    if cached is not None and cached != token_cache.STALE:
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


def _check(token: Any) -> Any:
    # The cache path takes this too: a cached token still expires on time.
    reason = refusal(token)
    if reason is None:
        return token
    logger.debug("Access token %s refused: %s.", token.hint, reason.value)
    return reason
