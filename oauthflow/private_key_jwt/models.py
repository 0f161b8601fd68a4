"""The client assertions already used, when no cache is configured for that
(``oauthflow.private_key_jwt.replay``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UsedAssertion(models.Model):
    """One client assertion seen: a digest of its client and ``jti``, kept until it
    expires (RFC 7523 §3, item 7)."""

    digest = models.CharField(_("digest"), max_length=64, editable=False)
    expires_at = models.DateTimeField(_("remembered until"), db_index=True)

    class Meta:
        verbose_name = _("used client assertion")
        verbose_name_plural = _("used client assertions")
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="oauthflow_client_assertion_used")
        ]

    def __str__(self) -> str:
        return self.digest[:12]
