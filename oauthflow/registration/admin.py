"""Dynamic registration in the admin.

* Initial access tokens are listed by hint (never the value, which is not stored), with
  what limits them, and can be revoked; they are made with
  ``manage.py oauthflow_registration_token create``, which shows the value once.
* The clients' list gains a column and a filter that tell dynamically registered
  clients from those staff made, and a registered client's page shows its
  registration. Added to the client admin registered by ``oauthflow.admin`` (it loads
  first: ``oauthflow`` comes before this app in ``INSTALLED_APPS``), so that admin keeps
  one owner.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..admin import RevokeOnlyAdmin
from ..models import Client
from .models import ClientRegistration, InitialAccessToken, usable


@admin.register(InitialAccessToken)
class InitialAccessTokenAdmin(RevokeOnlyAdmin):
    list_display = ("hint", "note", "created_at", "expires_at", "uses_left", "state")
    list_filter = ("revoked", "created_at")
    search_fields = ("hint", "note")
    fields = (
        "hint",
        "note",
        "created_at",
        "expires_at",
        "uses_left",
        "last_used_at",
        "revoked",
    )
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description=_("state"))
    def state(self, obj: InitialAccessToken) -> str:
        if obj.revoked:
            return str(_("revoked"))
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return str(_("expired"))
        if obj.uses_left == 0:
            return str(_("used up"))
        return str(_("usable"))

    @admin.action(description=_("Revoke selected initial access tokens"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.filter(usable(timezone.now())).update(revoked=True)
        self.message_user(
            request,
            ngettext(
                "Revoked %(count)d initial access token.",
                "Revoked %(count)d initial access tokens.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


class RegistrationInline(admin.StackedInline):
    """A registered client's registration, read-only, on its page (absent otherwise)."""

    model = ClientRegistration
    can_delete = False
    fields = (
        "created_at",
        "access_token_hint",
        "initial_access_token",
        "initial_access_token_hint",
        "software_id",
        "software_version",
    )
    readonly_fields = fields
    verbose_name_plural = _("dynamic registration")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may see the client sees how it registered.
        opts = Client._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or (
            request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        )


class RegisteredFilter(admin.SimpleListFilter):
    title = _("registered")
    parameter_name = "registered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("dynamically", _("Dynamically")), ("staff", _("By staff"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "dynamically":
            return queryset.filter(dynamic_registration__isnull=False)
        if self.value() == "staff":
            return queryset.filter(dynamic_registration__isnull=True)
        return None


@admin.display(description=_("dynamically registered"), boolean=True)
def dynamically_registered(obj: Client) -> bool:
    annotated = getattr(obj, "oauthflow_registered", None)
    return hasattr(obj, "dynamic_registration") if annotated is None else bool(annotated)


def _extend_client_admin(site: admin.AdminSite = admin.site) -> None:
    # Any: the instance is changed, not the class (django-stubs types these attributes as
    # class variables), so another admin site's client admin stays as it was.
    client_admin: Any = site._registry.get(Client)
    if client_admin is None or RegisteredFilter in client_admin.list_filter:
        return
    client_admin.list_filter = (*client_admin.list_filter, RegisteredFilter)
    client_admin.list_display = (*client_admin.list_display, dynamically_registered)
    own_queryset = client_admin.get_queryset

    def get_queryset(request: HttpRequest) -> QuerySet:
        # The column, without a query per row. A subquery, not a join: the admin's
        # actions lock the selected clients (SELECT ... FOR UPDATE), which PostgreSQL
        # refuses on the nullable side of an outer join.
        registered = ClientRegistration.objects.filter(client=OuterRef("pk"))
        return own_queryset(request).annotate(oauthflow_registered=Exists(registered))

    client_admin.get_queryset = get_queryset
    client_admin.inlines = [*client_admin.inlines, RegistrationInline]
    own_inlines = client_admin.get_inlines

    def get_inlines(request: HttpRequest, obj: Any) -> Any:
        # Only a registered client has a registration to show (not a new client, not one
        # staff made): no empty group on their pages.
        inlines = list(own_inlines(request, obj))
        if obj is None or not ClientRegistration.objects.filter(client=obj).exists():
            inlines = [i for i in inlines if i is not RegistrationInline]
        return inlines

    client_admin.get_inlines = get_inlines


_extend_client_admin()
