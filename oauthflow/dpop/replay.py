"""Each DPoP proof used once (RFC 9449 §11.1), in the shared replay store
(``oauthflow.store.replay``): ``DPOP_REPLAY_CACHE``, else ``TOKEN_CACHE``, else the
database (:class:`~oauthflow.dpop.models.UsedProof`).

The token endpoint checks proofs before its transaction opens, so the record stays
whatever happens next; at an API whose views run in a transaction (``ATOMIC_REQUESTS``),
a view that fails would roll a database record back with it, so such sites need the
cache (warning W011).
"""

from __future__ import annotations

from ..settings import oauthflow_settings
from ..store import replay
from ..store.replay import StoreUnavailable

__all__ = ["KEY_PREFIX", "StoreUnavailable", "cache_alias", "claim"]

KEY_PREFIX = "oauthflow:dpop:jti:"


def cache_alias() -> str | None:
    return oauthflow_settings.DPOP_REPLAY_CACHE or oauthflow_settings.TOKEN_CACHE


def claim(jkt: str, jti: str, lifetime: int) -> bool:
    """Record the use of proof ``jti`` of key ``jkt`` for ``lifetime`` seconds; False if
    it was used before."""
    return replay.claim(
        f"{jkt}:{jti}", lifetime, cache_alias=cache_alias(), prefix=KEY_PREFIX, model=_model
    )


def _model() -> type:
    from .models import UsedProof

    return UsedProof
