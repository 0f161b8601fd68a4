"""The Django admin for clients, issued credentials and consents.

Two rules shape it:

* A client secret is shown once, on a page of its own sent with ``Cache-Control:
  no-store``, right after it is made (adding a confidential client, the "rotate secret"
  action). It never goes into the messages framework, a cookie, the session, the admin
  history or a log; afterwards only its hint is shown.
* Codes, tokens and signing keys are read-only. Revoking goes through the store
  (``oauthflow.store.revocation``, so the ``token_revoked`` signal fires and caches are
  invalidated), never by editing or deleting a row; the "revoke" actions need the
  model's *change* permission. Deactivating and deleting a client are the store's too
  (``oauthflow.store.clients``), as for ``manage.py oauthflow_client``. Signing keys are
  made, rotated, retired and deleted by ``manage.py oauthflow_keys`` only (``oauthflow.keys``
  keeps them published as long as what they signed is valid); their private part is never
  shown, not even encrypted.

Which APIs (resources, RFC 8707) a client may get tokens for is set on the client, under
the trust permission; the resource's own page lists those clients but does not change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import django
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import keys
from .models import (
    SECRET_AUTH_METHODS,
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    RefreshToken,
    Resource,
    SigningKey,
)
from .server.registry import registry
from .settings import oauthflow_settings
from .store import revocation
from .store.clients import deactivate_client, delete_client
from .store.validity import Refusal, in_force, state

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_USERNAME = f"user__{get_user_model().USERNAME_FIELD}"
_HTTPS_BY_DEFAULT: dict[str, Any] = {"assume_scheme": "https"} if django.VERSION >= (5, 0) else {}


def _has_model_perm(request: HttpRequest, opts: Any, action: str) -> bool:
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


def _secret_response(
    admin_site: admin.AdminSite,
    request: HttpRequest,
    issued: list[tuple[Client, str]],
    *,
    title: StrOrPromise,
) -> HttpResponse:
    """The one page that shows clear client secrets; nothing may store or cache it."""
    context = {
        **admin_site.each_context(request),
        "title": title,
        "opts": Client._meta,
        "issued": issued,
    }
    response = TemplateResponse(request, "admin/oauthflow/client/secret.html", context)
    add_never_cache_headers(response)
    return response


def _confirm_response(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: StrOrPromise,
    question: StrOrPromise,
) -> HttpResponse:
    """An "Are you sure?" page that posts the same action again with ``post=yes``."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "opts": model_admin.model._meta,
        "objects": list(queryset),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/oauthflow/confirm_action.html", context)


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("post") == "yes"


# Clients ----------------------------------------------------------------------------------


def _https_by_default(db_field: Any, **kwargs: Any) -> Any:
    """The form field of a model field, a URL typed without a scheme meaning https. The
    admin builds its forms with its own callback (the declared fields below cover those);
    this one serves the form class the admin derives to leave out read-only fields."""
    if isinstance(db_field, models.URLField):
        kwargs.update(_HTTPS_BY_DEFAULT)
    return db_field.formfield(**kwargs)


class ClientAdminForm(forms.ModelForm):
    """Model validation (``Client.full_clean``) runs as for any ModelForm; grant types are
    offered as checkboxes because they are a closed set."""

    grant_types = forms.MultipleChoiceField(
        # The grant types the server serves, read when the form is built.
        choices=lambda: [(g, g) for g in registry.grant_types()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "refresh_token is only issued with authorization_code or the device code grant."
        ),
    )
    # A URL typed without a scheme means https (Django 6's default; 5.x warns otherwise).
    homepage_url = forms.URLField(required=False, max_length=200, **_HTTPS_BY_DEFAULT)
    logo_url = forms.URLField(required=False, max_length=200, **_HTTPS_BY_DEFAULT)
    token_endpoint_auth_method = forms.ChoiceField(
        label=capfirst(Client.token_endpoint_auth_method.field.verbose_name),
        help_text=Client.token_endpoint_auth_method.field.help_text,
        # Read when the form is built: what the installed apps registered.
        choices=lambda: [
            ("", _("From the client type")),
            *((m, m) for m in (*SECRET_AUTH_METHODS, "none")),
            *((m, m) for m in registry.confidential_auth_methods()),
        ],
        required=False,
    )
    jwks_uri = forms.URLField(
        label=capfirst(Client.jwks_uri.field.verbose_name),
        help_text=Client.jwks_uri.field.help_text,
        required=False,
        max_length=500,
        **_HTTPS_BY_DEFAULT,
    )
    sector_identifier_uri = forms.URLField(
        label=capfirst(Client.sector_identifier_uri.field.verbose_name),
        help_text=Client.sector_identifier_uri.field.help_text,
        required=False,
        max_length=200,
        **_HTTPS_BY_DEFAULT,
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "client_type",
            "is_active",
            "owner",
            "redirect_uris",
            "grant_types",
            "allowed_scopes",
            "default_scopes",
            "skip_consent",
            "may_introspect",
            "dpop_bound_access_tokens",
            "require_pushed_authorization_requests",
            "homepage_url",
            "logo_url",
            "post_logout_redirect_uris",
            "backchannel_logout_uri",
            "id_token_signed_response_alg",
            "subject_type",
            "sector_identifier_uri",
            "resources",
            "token_endpoint_auth_method",
            "jwks",
            "jwks_uri",
            "allowed_origins",
        ]
        formfield_callback = _https_by_default
        widgets = {
            "allowed_scopes": forms.TextInput(attrs={"size": 60}),
            "default_scopes": forms.TextInput(attrs={"size": 60}),
            # One URI.
            "backchannel_logout_uri": forms.TextInput(attrs={"size": 60}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        initial = self.initial.get("grant_types")
        if isinstance(initial, str):
            self.initial["grant_types"] = initial.split()
        elif initial is None and self.instance.pk is None:
            # The model's default, ticked on the "Add client" form as it would be saved.
            self.initial["grant_types"] = str(Client.grant_types.field.get_default()).split()

    def clean_grant_types(self) -> str:
        return " ".join(self.cleaned_data["grant_types"])

    def _update_errors(self, errors: ValidationError) -> None:
        # Client.clean() may name a field the form leaves out (read-only for staff without
        # the trust permission): show it above the form rather than fail.
        if not hasattr(errors, "error_dict"):
            super()._update_errors(errors)  # type: ignore[misc]
            return
        kept: dict[str, list[str]] = {}
        for field, found in errors.message_dict.items():
            if field in self.fields or field == NON_FIELD_ERRORS:
                kept.setdefault(field, []).extend(found)
            else:
                label = capfirst(str(getattr(Client._meta.get_field(field), "verbose_name", field)))
                kept.setdefault(NON_FIELD_ERRORS, []).extend(f"{label}: {m}" for m in found)
        super()._update_errors(ValidationError(kept))  # type: ignore[misc]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientAdminForm
    list_display = ("name", "client_id", "kind", "is_active", "created")
    list_filter = ("client_type", "is_active", "skip_consent", "may_introspect")
    search_fields = ("name", "client_id")
    readonly_fields = ("client_id", "secret_hint", "created_at", "updated_at")
    raw_id_fields = ("owner",)
    filter_horizontal = ("resources",)
    fieldsets = (
        (None, {"fields": ("name", "client_id", "client_type", "secret_hint", "is_active")}),
        (_("Redirection and grants"), {"fields": ("redirect_uris", "grant_types")}),
        (
            _("Authentication"),
            {"fields": ("token_endpoint_auth_method", "jwks", "jwks_uri")},
        ),
        (_("Browser apps (CORS)"), {"fields": ("allowed_origins",)}),
        (_("Scopes"), {"fields": ("allowed_scopes", "default_scopes")}),
        (_("Resources (APIs)"), {"fields": ("resources",)}),
        (_("Trust"), {"fields": ("skip_consent", "may_introspect")}),
        (
            _("Hardening"),
            {"fields": ("require_pushed_authorization_requests", "dpop_bound_access_tokens")},
        ),
        (
            _("OpenID Connect"),
            {
                "fields": (
                    "post_logout_redirect_uris",
                    "backchannel_logout_uri",
                    "id_token_signed_response_alg",
                    "subject_type",
                    "sector_identifier_uri",
                )
            },
        ),
        (
            _("About"),
            {"fields": ("owner", "homepage_url", "logo_url", "created_at", "updated_at")},
        ),
    )
    actions = ["rotate_secret", "revoke_tokens", "deactivate"]

    class Media:
        css = {"all": ["oauthflow/admin.css"]}

    @admin.display(description=_("type"), ordering="client_type")
    def kind(self, obj: Client) -> str:
        return str(obj.client_type)  # "confidential" or "public": the choice labels are long

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Client) -> str:
        return _short(obj.created_at)

    #: What only staff with ``oauthflow.change_client_trust`` may set: whoever controls
    #: them can have codes sent anywhere, skip the user's say, read any token's grant, or
    #: widen what an existing client (and every user who trusted it) may obtain. The
    #: logout URIs are redirect URIs too (where users are sent, where logout tokens go);
    #: the subject type and sector decide whether a client can link its users to other
    #: clients' (and changing them changes every user's ``sub`` at that client). The
    #: resources decide which APIs accept its tokens: an API that checks JWT access tokens
    #: alone has no other say, and the consent page does not name them. Turning DPoP-only
    #: off lets the client's tokens be bearer tokens again, and PAR-only off lets its
    #: requests travel in the browser again. Whoever sets the keys, or the method, can
    #: authenticate as the client; an allowed origin lets a web page call its endpoints.
    trust_fields = (
        "client_type",
        "token_endpoint_auth_method",
        "jwks",
        "jwks_uri",
        "allowed_origins",
        "redirect_uris",
        "grant_types",
        "allowed_scopes",
        "skip_consent",
        "may_introspect",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "subject_type",
        "sector_identifier_uri",
        "resources",
    )
    #: Of those, what staff without the permission may not set even on a new client. The
    #: others they may: it has no users yet, and its users will be asked. Nobody asks them
    #: about skipping consent, reading other clients' tokens or reaching an API.
    trust_fields_on_add = ("skip_consent", "may_introspect", "resources")

    def has_trust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_client_trust")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if self.has_trust_permission(request):
            return fields
        return fields + (self.trust_fields_on_add if obj is None else self.trust_fields)

    # Showing a new secret once -------------------------------------------------------------
    # save_model() keeps the clear secret on the instance for the rest of this request only;
    # response_add()/response_change() take it off and render the one-time page.

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        # A new confidential client, or a public one turned confidential, needs a secret
        # (unless it authenticates with keys: private_key_jwt).
        if obj.uses_secret and not obj.has_secret:
            obj.__dict__["_oauthflow_clear_secret"] = obj.set_secret()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            # Unticking "active" means what the deactivate action means: no token works.
            if change and "is_active" in form.changed_data and not obj.is_active:
                deactivate_client(obj, by="admin")

    def response_add(
        self, request: HttpRequest, obj: Client, post_url_continue: str | None = None
    ) -> HttpResponse:
        secret = obj.__dict__.pop("_oauthflow_clear_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_response(
            self.admin_site, request, [(obj, secret)], title=_("Client added: copy its secret")
        )

    def response_change(self, request: HttpRequest, obj: Client) -> HttpResponse:
        secret = obj.__dict__.pop("_oauthflow_clear_secret", None)
        if secret is None:
            return super().response_change(request, obj)
        return _secret_response(
            self.admin_site, request, [(obj, secret)], title=_("Client saved: copy its secret")
        )

    # Deleting -----------------------------------------------------------------------------
    # Revoke first, so the token_revoked signal fires and caches forget the tokens, then
    # delete the codes and tokens in batches rather than through Django's collector, which
    # would load every row.

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """Counts instead of a list of every token (a client may hold millions). The token
        admins have no delete permission; that must not stop a client's deletion."""
        objs = list(objs)
        to_delete = [
            format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(self.opts.verbose_name),
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
                ),
                obj,
            )
            for obj in objs
        ]
        model_count = {self.opts.verbose_name_plural: len(objs)}
        for model in (AuthorizationCode, AccessToken, RefreshToken, Consent):
            count = model._default_manager.filter(client__in=objs).count()
            if count:
                model_count[model._meta.verbose_name_plural] = count
        return to_delete, model_count, set(), []

    # The store's delete_client: revoked first (committed at once), then what it issued
    # in short batches, then the client; no transaction spans a client with millions of
    # rows.

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        delete_client(obj, by="admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for client in queryset:
            delete_client(client, by="admin")

    # Actions -------------------------------------------------------------------------------

    # A new secret is the client's identity: it needs the trust permission too.
    @admin.action(description=_("Rotate secret of selected clients"), permissions=["trust"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if not _confirmed(request):
            return _confirm_response(
                self,
                request,
                queryset,
                action="rotate_secret",
                title=_("Rotate client secrets"),
                question=_(
                    "Each confidential client below gets a new secret; its old secret stops "
                    "working at once. Public clients and clients that authenticate with "
                    "keys have no secret and are skipped."
                ),
            )
        issued: list[tuple[Client, str]] = []
        skipped = 0
        with transaction.atomic():
            for client in queryset.select_for_update():
                if not client.uses_secret:
                    skipped += 1
                    continue
                secret = client.set_secret()
                client.save(update_fields=Client.SECRET_FIELDS)
                self.log_change(request, client, "Rotated the client secret.")
                issued.append((client, secret))
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d public client has no secret and was skipped.",
                    "%(count)d public clients have no secret and were skipped.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        if not issued:
            return None
        return _secret_response(self.admin_site, request, issued, title=_("New client secrets"))

    @admin.action(description=_("Revoke all tokens of selected clients"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if not _confirmed(request):
            return _confirm_response(
                self,
                request,
                queryset,
                action="revoke_tokens",
                title=_("Revoke all tokens"),
                question=_(
                    "Every authorization code, access token and refresh token issued to the "
                    "clients below is revoked. Users will have to authorize them again."
                ),
            )
        count = 0
        for client in queryset:
            count += revocation.revoke_client(client, by="admin")
            self.log_change(request, client, "Revoked all tokens.")
        self.message_user(
            request,
            _("Revoked %(count)d codes and tokens.") % {"count": count},
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description=_("Deactivate selected clients and revoke their tokens"),
        permissions=["change"],
    )
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if not _confirmed(request):
            return _confirm_response(
                self,
                request,
                queryset,
                action="deactivate",
                title=_("Deactivate clients"),
                question=_(
                    "The clients below are deactivated (they can get no new tokens) and "
                    "every code and token issued to them is revoked."
                ),
            )
        clients = count = 0
        for client in queryset:
            clients += 1
            count += deactivate_client(client, by="admin")
            self.log_change(request, client, "Deactivated and revoked all tokens.")
        self.message_user(
            request,
            _("Deactivated %(clients)d clients and revoked %(count)d codes and tokens.")
            % {"clients": clients, "count": count},
            messages.SUCCESS,
        )
        return None


# Resources (APIs) -------------------------------------------------------------------------


def is_parsable_uri(value: str) -> bool:
    """Whether ``urlsplit`` takes ``value`` (it raises on a host such as ``[::1``)."""
    try:
        urlsplit(value)
    except ValueError:
        return False
    return True


#: A resource's own lifetime stays within the bounds of the settings it stands in for
#: (ACCESS_TOKEN_LIFETIME, JWT_ACCESS_TOKEN_LIFETIME), as ``oauthflow_resource`` holds it.
_RESOURCE_LIFETIME_BOUNDS = (1, 24 * 3600)


class ResourceAdminForm(forms.ModelForm):
    """Model validation (``Resource.full_clean``) runs as for any ModelForm: the identifier's
    shape, its uniqueness, the scope names."""

    access_token_lifetime = forms.IntegerField(
        label=capfirst(Resource.access_token_lifetime.field.verbose_name),
        help_text=Resource.access_token_lifetime.field.help_text,
        required=False,
        min_value=_RESOURCE_LIFETIME_BOUNDS[0],
        max_value=_RESOURCE_LIFETIME_BOUNDS[1],
    )

    class Meta:
        model = Resource
        fields = [
            "identifier",
            "name",
            "is_active",
            "token_format",
            "signing_alg",
            "access_token_lifetime",
            "scopes",
        ]
        widgets = {
            "identifier": forms.TextInput(attrs={"size": 60}),
            "scopes": forms.TextInput(attrs={"size": 60}),
        }

    def clean_identifier(self) -> str:
        identifier: str = self.cleaned_data["identifier"]
        if not is_parsable_uri(identifier):
            # The model's validator would raise ValueError on it (a 500), not a form error.
            raise ValidationError(
                _("A resource identifier is an absolute URI without a fragment."),
                code="invalid",
            )
        return identifier


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    """The APIs clients get tokens for. Which clients may is set on each client (it needs
    the trust permission); this page only lists them."""

    form = ResourceAdminForm
    list_display = ("identifier", "name", "token_format", "lifetime", "is_active", "client_count")
    list_filter = ("token_format", "is_active")
    search_fields = ("identifier", "name")
    fieldsets = (
        (None, {"fields": ("identifier", "name", "is_active")}),
        (
            _("Tokens"),
            {"fields": ("token_format", "signing_alg", "access_token_lifetime", "scopes")},
        ),
        (_("Clients"), {"fields": ("allowed_clients", "created_at")}),
    )

    class Media:
        css = {"all": ["oauthflow/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_client_count=Count("clients"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("allowed_clients", "created_at")
        # Tokens carry the identifier in aud, and APIs know themselves by it: it is fixed
        # once made (delete the resource and add another to change it).
        return fields if obj is None else ("identifier", *fields)

    @admin.display(description=_("lifetime"), ordering="access_token_lifetime")
    def lifetime(self, obj: Resource) -> str:
        if obj.access_token_lifetime:
            return str(obj.access_token_lifetime)
        if obj.token_format == Resource.JWT:
            default = oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME
        else:
            default = oauthflow_settings.ACCESS_TOKEN_LIFETIME
        return gettext("%(seconds)d (default)") % {"seconds": default}

    @admin.display(description=_("clients"), ordering="_client_count")
    def client_count(self, obj: Resource) -> int:
        count = getattr(obj, "_client_count", None)
        return obj.clients.count() if count is None else int(count)

    @admin.display(description=_("allowed clients"))
    def allowed_clients(self, obj: Resource) -> str:
        if obj.pk is None:
            return "-"
        links = [
            format_html(
                '<a href="{}">{}</a>',
                reverse(f"admin:{self.opts.app_label}_client_change", args=[client.pk]),
                client,
            )
            for client in obj.clients.all()
        ]
        if not links:
            return gettext("None yet: add this resource to a client's Resources (APIs).")
        return format_html_join(", ", "{}", ((link,) for link in links))


# Codes and tokens -------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Active, expired or revoked; "used" is a redeemed code or a rotated refresh token."""

    title = _("status")
    parameter_name = "status"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, StrOrPromise]]:
        choices: list[tuple[str, StrOrPromise]] = [
            ("active", _("Active")),
            ("expired", _("Expired")),
            ("revoked", _("Revoked")),
        ]
        if _used_field(model_admin.model):
            choices.append(("used", _("Used (redeemed or rotated)")))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        now = timezone.now()
        value = self.value()
        if value == "active":
            return queryset.filter(in_force(now))
        if value == "expired":
            return queryset.filter(expires_at__lte=now)
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        used = _used_field(queryset.model)
        if value == "used" and used:
            return queryset.filter(**{f"{used}__isnull": False})
        return None


def _short(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _used_field(model: type) -> str | None:
    return getattr(model, "USED_FIELD", None)


_STATUS = {
    None: _("active"),
    Refusal.REVOKED: _("revoked"),
    Refusal.EXPIRED: _("expired"),
    Refusal.USED: _("used"),
}


class RevokeOnlyAdmin(admin.ModelAdmin):
    """Rows that are viewed and revoked, never added, edited or deleted by hand: deleting
    would skip the revocation path (and its cache invalidation); oauthflow_cleartokens
    removes dead rows."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return _has_model_perm(request, self.opts, "change")


class CredentialAdmin(RevokeOnlyAdmin):
    """Read-only lists of issued codes and tokens. The digest is not shown: it is not
    secret, but it is useless to a person; the hint identifies a credential."""

    # What tells rows apart, and short dates; the issue and revocation times are on each
    # row's page. So the list fits a 1280-pixel screen beside the menu and the filters.
    list_display = ("hint", "client", "user", "scope", "status", "expires", "family_link")
    list_filter = (StatusFilter, "client", "created_at")
    search_fields = ("hint", "client__name", "client__client_id", _USERNAME)
    list_select_related = ("client", "user")

    class Media:
        css = {"all": ["oauthflow/admin.css"]}

    # These tables grow large; skip the extra COUNT(*) of the whole table.
    show_full_result_count = False
    actions = ["revoke_selected"]
    common_fields = (
        "hint",
        "client",
        "user",
        "scope",
        "family",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    extra_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.common_fields + self.extra_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description=_("status"))
    def status(self, obj: Any) -> str:
        # The credential's own state (its client and user have their own pages). A used
        # credential past its expiry reads "expired", as the filter above sorts it.
        reason = state(obj)
        if reason is Refusal.USED and obj.is_expired():
            reason = Refusal.EXPIRED
        return str(_STATUS[reason])

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires(self, obj: Any) -> str:
        return _short(obj.expires_at)

    @admin.display(description=_("family"), ordering="family")
    def family_link(self, obj: Any) -> str:
        # Everything issued from the same authorization, in this list.
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return format_html('<a href="{}?family={}">{}…</a>', url, obj.family, str(obj.family)[:8])

    @admin.action(
        description=_("Revoke the authorizations of selected rows"), permissions=["revoke"]
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        families: dict[Any, Any] = {}
        for row in queryset.select_related("client", "user").order_by("pk"):
            families.setdefault(row.family, row)
        count = 0
        for family, row in families.items():
            count += revocation.revoke_family(family, by="admin", client=row.client, user=row.user)
        self.message_user(
            request,
            _("Revoked %(families)d authorizations (%(count)d codes and tokens).")
            % {"families": len(families), "count": count},
            messages.SUCCESS,
        )


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(CredentialAdmin):
    extra_fields = ("redirect_uri", "code_challenge_method", "redeemed_at", "dpop_jkt")


@admin.register(AccessToken)
class AccessTokenAdmin(CredentialAdmin):
    extra_fields = ("resource", "jkt")


@admin.register(RefreshToken)
class RefreshTokenAdmin(CredentialAdmin):
    extra_fields = ("family_expires_at", "rotated_at", "superseded_at", "rotated_from", "jkt")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("rotated_from")


# Consents ---------------------------------------------------------------------------------


@admin.register(Consent)
class ConsentAdmin(RevokeOnlyAdmin):
    """Remembered consents. Revoking one also revokes every token of that user and client."""

    list_display = ("user", "client", "scope", "created_at", "updated_at")
    list_filter = ("client", "created_at")
    search_fields = (_USERNAME, "client__name", "client__client_id", "scope")
    list_select_related = ("client", "user")
    fields = ("user", "client", "scope", "created_at", "updated_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.action(
        description=_("Revoke selected consents and their tokens"), permissions=["revoke"]
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        consents = list(queryset.select_related("client", "user"))
        count = 0
        for consent in consents:
            count += revocation.revoke_grant(consent.client, consent.user, by="admin")
        self.message_user(
            request,
            _("Revoked %(consents)d consents (%(count)d codes and tokens).")
            % {"consents": len(consents), "count": count},
            messages.SUCCESS,
        )


# Signing keys -----------------------------------------------------------------------------


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """The signing keys, to look at. ``manage.py oauthflow_keys`` makes, rotates, retires and
    deletes them: by hand, a key could stop being published while ID tokens it signed are
    still valid, or sign before relying parties have it. The encrypted private key is never
    on a page (``exclude``)."""

    list_display = ("kid", "alg", "state", "signs", "published_until")
    list_filter = ("alg",)
    search_fields = ("kid",)
    exclude = ("private_jwk_encrypted",)
    fields = (
        "kid",
        "alg",
        "state",
        "created_at",
        "signs_from",
        "retired_at",
        "published_until",
        "public_jwk",
    )
    readonly_fields = fields

    class Media:
        css = {"all": ["oauthflow/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # Every key's state depends on the other keys of its algorithm: work them out once
        # for the page, from the table as it is now (not this process's copy of it).
        changelist = super().get_changelist_instance(request)
        states = _key_states()
        for row in changelist.result_list:
            row.__dict__["_oauthflow_key_state"] = states.get(row.pk)
        return changelist

    def _key_state(self, obj: SigningKey) -> keys.KeyState | None:
        if "_oauthflow_key_state" not in obj.__dict__:
            obj.__dict__["_oauthflow_key_state"] = _key_states().get(obj.pk)
        state: keys.KeyState | None = obj.__dict__["_oauthflow_key_state"]
        return state

    @admin.display(description=_("signs from"), ordering="signs_from")
    def signs(self, obj: SigningKey) -> str:
        return _short(obj.signs_from)

    @admin.display(description=_("state"))
    def state(self, obj: SigningKey) -> str:
        state = self._key_state(obj)
        return str(_KEY_STATES[state.state]) if state else "-"

    @admin.display(description=_("published until"))
    def published_until(self, obj: SigningKey) -> str:
        state = self._key_state(obj)
        if state is None:
            return "-"
        if state.published_until is None:
            return str(_("while in use"))
        return _short(state.published_until)


_KEY_STATES = {
    "pending": _("pending"),
    "signing": _("signing"),
    "superseded": _("superseded"),
    "retired": _("retired"),
    "expired": _("expired"),
}


def _key_states() -> dict[int, keys.KeyState]:
    table = SigningKey.objects.using(router.db_for_write(SigningKey))
    return {s.key.pk: s for s in keys.key_states(rows=list(table))}
