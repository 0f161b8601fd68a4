"""Pushed authorization requests waiting for the browser (RFC 9126 §2.2)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Client


class PushedRequest(models.Model):
    """The parameters a client pushed, found by the digest of their ``request_uri``.

    Used once: the first authorization request that names it binds it to that browser's
    session (``used_at``); another browser presenting it is refused.
    """

    digest = models.CharField(_("digest"), max_length=64, editable=False)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    parameters = models.JSONField(_("parameters"))
    created_at = models.DateTimeField(_("pushed"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("pushed authorization request")
        verbose_name_plural = _("pushed authorization requests")
        constraints = [models.UniqueConstraint(fields=["digest"], name="oauthflow_par_digest")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.created_at:%Y-%m-%d %H:%M:%S}"
