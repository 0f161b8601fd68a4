"""Each one-time value used once, in a store every process shares: the DPoP proofs'
``jti`` (RFC 9449 §11.1), the client assertions' ``jti`` (RFC 7523 §3).

The key is a digest of what makes the value unique. With a cache a use is one atomic
``add``; without one it is one INSERT into a model whose unique ``digest`` refuses the
second. Either way one write, and never process memory: a value replayed to another
process or another host sharing the store is caught too. If the store cannot be asked,
:class:`StoreUnavailable`: the caller refuses (an unchecked value could be a replay).

The database store writes in the caller's transaction, in a savepoint when one is open.
Callers check before their own transaction opens, so the record stays whatever happens
next; a view run in a transaction (``ATOMIC_REQUESTS``) that fails rolls it back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

logger = logging.getLogger("oauthflow.replay")


class StoreUnavailable(Exception):
    """The replay store could not be asked: the value cannot be accepted."""


def claim(
    unique: str,
    lifetime: int,
    *,
    cache_alias: str | None,
    prefix: str,
    model: Callable[[], Any],
) -> bool:
    """Record the use of ``unique`` for ``lifetime`` seconds; False if it was used before.

    ``cache_alias`` names the cache to use; None, the model ``model()`` returns (one with
    a unique ``digest`` and ``expires_at``; imported only then, so an API host without
    the app's tables never loads it). Cache keys start with ``prefix``."""
    digest = hashlib.sha256(unique.encode("utf-8", "surrogatepass")).hexdigest()
    if cache_alias:
        from django.core.cache import caches

        try:
            return bool(caches[cache_alias].add(prefix + digest, 1, timeout=lifetime))
        except Exception as error:  # fail closed
            logger.warning("Replay cache unreachable: %s", type(error).__name__)
            raise StoreUnavailable from error
    return _claim_row(model(), digest, lifetime)


def _claim_row(model: Any, digest: str, lifetime: int) -> bool:
    from django.db import DatabaseError, IntegrityError, connections, router, transaction

    db = router.db_for_write(model)
    row = model(digest=digest, expires_at=timezone.now() + timedelta(seconds=lifetime))
    try:
        if connections[db].in_atomic_block:
            with transaction.atomic(using=db):  # a savepoint: the outer one survives
                row.save(using=db, force_insert=True)
        else:
            row.save(using=db, force_insert=True)
    except IntegrityError:
        return False
    except DatabaseError as error:  # no table (an API without a database), an outage
        logger.warning("Replay store unreachable: %s", type(error).__name__)
        raise StoreUnavailable from error
    return True
