"""Taking a client out of service: deactivating it, or deleting it.

The admin and ``manage.py oauthflow_client`` both come here, so the two always agree on
what "deactivate" and "delete" mean.
"""

from __future__ import annotations

from django.db import router, transaction
from django.utils import timezone

from ..models import Client
from .cleanup import delete_issued_to
from .revocation import revoke_client


def deactivate_client(client: Client, *, by: str) -> int:
    """Mark ``client`` inactive (it gets no new tokens) and revoke everything it holds.

    One transaction: the change and the revocation are seen together. The UPDATE is
    conditional, so a client already saved inactive (the admin form) is not written
    again. Returns how many codes and tokens were revoked.
    """
    with transaction.atomic(using=router.db_for_write(Client)):
        Client.objects.filter(pk=client.pk, is_active=True).update(
            is_active=False, updated_at=timezone.now()
        )
        client.is_active = False
        return revoke_client(client, by=by)


def delete_client(client: Client, *, by: str) -> dict[str, int]:
    """Delete ``client``, its consents and everything issued to it.

    Deactivated and revoked first (committed at once, so nothing it holds works any
    more), then its codes and tokens are deleted in clean-up's short batches, then the
    client: no transaction spans a client with millions of rows, and an interruption
    leaves a revoked client that is safe to delete again. Returns the counts: ``revoked``,
    then rows deleted per table, ``consents`` last.
    """
    revoked = deactivate_client(client, by=by)
    deleted = delete_issued_to(client)
    _, by_model = client.delete()
    return {
        "revoked": revoked,
        **deleted,
        "consents": by_model.get(f"{Client._meta.app_label}.Consent", 0),
    }
