"""What dynamic client registration keeps: the initial access tokens staff hand out, and
each dynamically registered client's registration. Tokens are stored as digests only
(``oauthflow.tokens``)."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Client


def usable(now: datetime) -> Q:
    """Initial access tokens that may still register a client: not revoked, not expired,
    not used up. The guard's conditional UPDATE and clean-up (its negation) share it."""
    return (
        Q(revoked=False)
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & (Q(uses_left__isnull=True) | Q(uses_left__gt=0))
    )


class InitialAccessToken(models.Model):
    """A token that lets a client register (RFC 7591 §3), made by
    ``manage.py oauthflow_registration_token create``. Optionally limited in time and in
    the number of clients it may register (``uses_left``, counted down by a conditional
    UPDATE, so concurrent registrations cannot exceed it)."""

    digest = models.CharField(_("digest"), max_length=64, editable=False)
    hint = models.CharField(_("hint"), max_length=20, editable=False)
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("Who it was given to, and why.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    uses_left = models.PositiveIntegerField(
        _("uses left"),
        null=True,
        blank=True,
        help_text=_("How many more clients it may register; empty: no limit."),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("initial access token")
        verbose_name_plural = _("initial access tokens")
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="oauthflow_registration_iat_digest")
        ]

    def __str__(self) -> str:
        return f"{self.hint} {self.note}".strip()

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            not self.revoked
            and (self.expires_at is None or self.expires_at > now)
            and (self.uses_left is None or self.uses_left > 0)
        )


class ClientRegistration(models.Model):
    """A client that registered itself, and the digest of the registration access token
    it manages itself with (RFC 7592). Staff-made clients have none, so no token can
    change them."""

    client = models.OneToOneField(
        Client,
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="dynamic_registration",
    )
    access_token_digest = models.CharField(
        _("registration access token digest"), max_length=64, editable=False
    )
    access_token_hint = models.CharField(
        _("registration access token"), max_length=20, editable=False
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now, editable=False)
    initial_access_token = models.ForeignKey(
        InitialAccessToken,
        verbose_name=_("initial access token"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    # Kept apart from the foreign key: clean-up deletes dead initial access tokens, and
    # which one let a client in is still worth knowing.
    initial_access_token_hint = models.CharField(
        _("initial access token hint"), max_length=20, blank=True, editable=False
    )
    software_id = models.CharField(_("software ID"), max_length=200, blank=True)
    software_version = models.CharField(_("software version"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("dynamic registration")
        verbose_name_plural = _("dynamic registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["access_token_digest"], name="oauthflow_registration_rat_digest"
            )
        ]

    def __str__(self) -> str:
        return self.access_token_hint
