"""Each client assertion used once (RFC 7523 §3, item 7), in the shared replay store
(``oauthflow.store.replay``): ``CLIENT_ASSERTION_REPLAY_CACHE``, else ``TOKEN_CACHE``,
else the database (:class:`~oauthflow.private_key_jwt.models.UsedAssertion`).

Client authentication runs before the token endpoint's transaction opens, so a token
request that fails afterwards does not roll the record back.
"""

from __future__ import annotations

from ..settings import oauthflow_settings
from ..store import replay

KEY_PREFIX = "oauthflow:client-assertion:jti:"


def cache_alias() -> str | None:
    return oauthflow_settings.CLIENT_ASSERTION_REPLAY_CACHE or oauthflow_settings.TOKEN_CACHE


def claim(client_id: str, jti: str, lifetime: int) -> bool:
    """Record the use of assertion ``jti`` of ``client_id`` for ``lifetime`` seconds;
    False if it was used before. Raises ``StoreUnavailable``."""
    return replay.claim(
        # Length-prefixed: client "a" with jti "b:c" is not client "a:b" with jti "c".
        f"{len(client_id)}:{client_id}:{jti}",
        lifetime,
        cache_alias=cache_alias(),
        prefix=KEY_PREFIX,
        model=_model,
    )


def _model() -> type:
    from .models import UsedAssertion

    return UsedAssertion
