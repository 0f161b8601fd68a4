"""What the device flow keeps: one row per device authorization request, and the counts
of wrong user codes (``oauthflow.device.guessing``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..models import IssuedCredential


class DeviceAuthorization(IssuedCredential):
    """A device's request for the user's authorization (RFC 8628 §3.1).

    The credential is the device code: ``digest`` and ``hint`` are its, as for any code
    or token. The user code is kept only as a keyed digest (``oauthflow.device.user_code``).
    ``user`` is empty until the user decides. The tokens the device code buys join its
    ``family``. It is exchanged once (``exchanged_at``, the single-use guard).
    """

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    STATUSES = [
        (PENDING, _("waiting for the user")),
        (APPROVED, _("approved")),
        (DENIED, _("denied")),
    ]

    user_code_digest = models.CharField(_("user code digest"), max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=STATUSES, default=PENDING)
    resource = models.TextField(
        _("resources"), blank=True, help_text=_("Space-separated: those the request named.")
    )
    poll_interval = models.PositiveIntegerField(
        _("polling interval"),
        help_text=_("Seconds the device must wait between polls; grows with each slow_down."),
    )
    next_poll_at = models.DateTimeField(_("next poll allowed"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    exchanged_at = models.DateTimeField(_("exchanged"), null=True, blank=True)

    USED_FIELD = "exchanged_at"

    class Meta(IssuedCredential.Meta):
        verbose_name = _("device authorization")
        verbose_name_plural = _("device authorizations")
        constraints = [
            *IssuedCredential.Meta.constraints,
            models.UniqueConstraint(fields=["user_code_digest"], name="oauthflow_device_user_code"),
        ]

    @property
    def is_pending(self) -> bool:
        return self.status == self.PENDING and self.exchanged_at is None

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_user_code(self) -> str:
        """Authlib's interface; the clear user code is never kept."""
        return ""


class UserCodeFailures(models.Model):
    """Wrong user codes entered by one user or from one address, in a window of time.

    ``key`` is a keyed digest of who it counts (``user:<pk>`` or ``address:<ip>``), so
    the table holds no addresses in clear.
    """

    key = models.CharField(_("key"), max_length=64, editable=False)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    window_ends_at = models.DateTimeField(_("window ends"), db_index=True)

    class Meta:
        verbose_name = _("count of wrong user codes")
        verbose_name_plural = _("counts of wrong user codes")
        constraints = [models.UniqueConstraint(fields=["key"], name="oauthflow_device_failures")]

    def __str__(self) -> str:
        return f"{self.failures} until {self.window_ends_at:%Y-%m-%d %H:%M}"
