"""The signed-in user's authorized apps, each with a button that withdraws access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_protect

from ..consent import authorized_apps_of
from ..models import Client
from ..server.request import is_acceptable
from ..store.revocation import revoke_grant
from .pages import error_page, protect, unavailable_page


@never_cache
@xframe_options_deny
@unavailable_page
@csrf_protect
@login_required
def authorized_apps(request: HttpRequest) -> HttpResponse:
    """Withdrawing revokes every code and token the app holds for this user and forgets
    the consent, so the next authorization request asks again."""
    if request.method == "POST":
        client_id = request.POST.get("client_id", "")
        client = Client.objects.find(client_id=client_id) if is_acceptable(client_id) else None
        if client is None:
            return error_page(request, "invalid_request", _("Unknown app."))
        revoke_grant(client, request.user, by="user")
        messages.success(
            request, _("%(name)s can no longer use your account.") % {"name": client.name}
        )
        return redirect("oauthflow:authorized-apps")
    response = render(
        request, "oauthflow/authorized_apps.html", {"apps": authorized_apps_of(request.user)}
    )
    return protect(response)
