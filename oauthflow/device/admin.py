"""Device authorizations in the admin: listed without secrets (the device code's hint
only; the user code is never stored in clear), pending ones first, and deniable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..admin import CredentialAdmin
from ..store import revocation
from .models import DeviceAuthorization


class DecisionFilter(admin.SimpleListFilter):
    """Waiting (still answerable), approved, denied."""

    title = _("decision")
    parameter_name = "decision"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("waiting", _("Waiting for the user")),
            (DeviceAuthorization.APPROVED, _("Approved")),
            (DeviceAuthorization.DENIED, _("Denied")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if value == "waiting":
            return _waiting(queryset)
        if value in (DeviceAuthorization.APPROVED, DeviceAuthorization.DENIED):
            return queryset.filter(status=value)
        return None


def _waiting(queryset: QuerySet) -> QuerySet:
    return queryset.filter(
        status=DeviceAuthorization.PENDING,
        expires_at__gt=timezone.now(),
        revoked_at__isnull=True,
    )


@admin.register(DeviceAuthorization)
class DeviceAuthorizationAdmin(CredentialAdmin):
    list_display = ("hint", "client", "user", "scope", "decision", "status", "expires")
    list_filter = (DecisionFilter, "client", "created_at")  # type: ignore[assignment]
    actions = ["deny_selected", "revoke_selected"]
    extra_fields = ("status_field", "resource", "poll_interval", "decided_at", "exchanged_at")

    @admin.display(description=_("decision"), ordering="status")
    def decision(self, obj: DeviceAuthorization) -> str:
        return str(obj.get_status_display())

    @admin.display(description=_("decision"))
    def status_field(self, obj: DeviceAuthorization) -> str:
        return self.decision(obj)

    @admin.action(
        description=_("Revoke the authorizations of selected rows"), permissions=["revoke"]
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        # A request not yet exchanged has no tokens in its family: revoke the row itself
        # too, or the device would still get tokens.
        revocation.revoke_rows(
            DeviceAuthorization, list(queryset.values_list("pk", flat=True)), by="admin"
        )
        super().revoke_selected(request, queryset)

    @admin.action(description=_("Deny selected requests still waiting"), permissions=["revoke"])
    def deny_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = _waiting(queryset).update(
            status=DeviceAuthorization.DENIED, decided_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "Denied %(count)d device authorization request.",
                "Denied %(count)d device authorization requests.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
