"""Each DPoP proof used once (RFC 9449 §11.1), in a store every process shares.

The key is a digest of the proof's key thumbprint and ``jti``. With a cache
(``DPOP_REPLAY_CACHE``, else ``TOKEN_CACHE``) a use is one atomic ``add``; without one it
is one INSERT into :class:`~oauthflow.dpop.models.UsedProof`, whose unique digest refuses
the second. Either way one write per request, and never process memory: a proof replayed
to another process or another API host sharing the store is caught too.

The database store writes in the caller's transaction. The token endpoint checks proofs
before its transaction opens, so the record stays whatever happens next; at an API whose
views run in a transaction (``ATOMIC_REQUESTS``), a view that fails would roll the
record back with it, so such sites need the cache (warning W011).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.utils import timezone

from ..settings import oauthflow_settings

logger = logging.getLogger("oauthflow.dpop")

KEY_PREFIX = "oauthflow:dpop:jti:"


class StoreUnavailable(Exception):
    """The replay store could not be asked: the proof cannot be accepted."""


def cache_alias() -> str | None:
    return oauthflow_settings.DPOP_REPLAY_CACHE or oauthflow_settings.TOKEN_CACHE


def claim(jkt: str, jti: str, lifetime: int) -> bool:
    """Record the use of proof ``jti`` of key ``jkt`` for ``lifetime`` seconds; False if
    it was used before."""
    digest = hashlib.sha256(f"{jkt}:{jti}".encode("utf-8", "surrogatepass")).hexdigest()
    alias = cache_alias()
    if alias:
        from django.core.cache import caches

        try:
            return bool(caches[alias].add(KEY_PREFIX + digest, 1, timeout=lifetime))
        except Exception as error:  # fail closed: an unchecked proof could be a replay
            logger.warning("DPoP replay cache unreachable: %s", type(error).__name__)
            raise StoreUnavailable from error
    return _claim_row(digest, lifetime)


def _claim_row(digest: str, lifetime: int) -> bool:
    from django.db import DatabaseError, IntegrityError, connections, router, transaction

    from .models import UsedProof

    db = router.db_for_write(UsedProof)
    row = UsedProof(digest=digest, expires_at=timezone.now() + timedelta(seconds=lifetime))
    try:
        if connections[db].in_atomic_block:
            with transaction.atomic(using=db):  # a savepoint: the outer one survives
                row.save(using=db, force_insert=True)
        else:
            row.save(using=db, force_insert=True)
    except IntegrityError:
        return False
    except DatabaseError as error:  # no table (an API without a database), an outage
        logger.warning("DPoP replay store unreachable: %s", type(error).__name__)
        raise StoreUnavailable from error
    return True
