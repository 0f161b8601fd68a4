"""The proofs already used, when no cache is configured for that (``oauthflow.dpop.replay``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UsedProof(models.Model):
    """One DPoP proof seen: a digest of its key and ``jti``, kept while it could be
    presented again (its ``iat`` is still acceptable)."""

    digest = models.CharField(_("digest"), max_length=64, editable=False)
    expires_at = models.DateTimeField(_("remembered until"), db_index=True)

    class Meta:
        verbose_name = _("used DPoP proof")
        verbose_name_plural = _("used DPoP proofs")
        constraints = [models.UniqueConstraint(fields=["digest"], name="oauthflow_dpop_used")]

    def __str__(self) -> str:
        return self.digest[:12]
