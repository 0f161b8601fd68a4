"""The device authorization endpoint's view, and the user's pages: enter the code,
decide, done (RFC 8628 §3.3).

The user signs in first, so wrong codes count against an account as well as an address
(``oauthflow.device.guessing``). A code that matches a live request is remembered in the
session, and the decision form posts only the decision: the code is entered once. The
consent page is always shown (no remembered consent, no ``skip_consent``): the request
started on another device, and the page says so (RFC 8628 §5.4).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from .. import scope as scopes
from .. import signals
from ..models import Consent
from ..server.authorization_server import get_server
from ..views.pages import error_page, protect, refused, unavailable_page
from ..views.token import _client_endpoint
from . import approval, guessing, user_code
from .models import DeviceAuthorization

#: Session keys: the request whose code the user entered, and the last outcome.
SESSION_KEY = "oauthflow_device"
OUTCOME_KEY = "oauthflow_device_outcome"


@_client_endpoint
def device_authorization(request: HttpRequest) -> HttpResponse:
    """The device authorization endpoint (RFC 8628 §3.1)."""
    return get_server().create_endpoint_response("device_authorization", request)


def _page(view: Any) -> Any:
    """What every page of the flow needs: sign-in, CSRF, https, no caching or framing."""

    @never_cache
    @xframe_options_deny
    @unavailable_page
    @csrf_protect
    @login_required
    def wrapped(request: HttpRequest) -> HttpResponse:
        refusal = refused(request)
        return refusal if refusal is not None else protect(view(request))

    wrapped.__doc__ = view.__doc__
    wrapped.__name__ = view.__name__
    return wrapped


@sensitive_post_parameters("user_code")
@_page
def enter_code(request: HttpRequest) -> HttpResponse:
    """GET: the form, filled in from ``?user_code=`` (verification_uri_complete) but
    never submitted for the user. POST: check the code, then on to the decision."""
    locked = guessing.lockout(request)
    if request.method != "POST":
        entry = request.GET.get("user_code", "")
        code = user_code.normalise(entry)
        return _code_form(request, user_code.display(code) if code else "", locked=locked)
    if locked is not None:
        return _code_form(request, "", locked=locked, status=429)
    entry = request.POST.get("user_code", "")
    code = user_code.normalise(entry)
    if code is None:
        # Not the shape of any code: it cannot match, so it is not counted as a guess.
        error = _("A code is 8 letters, like BCDF-GHJK. Check the code on your device.")
        return _code_form(request, "", error=error, status=400)
    locked = guessing.attempt(request)
    if locked is not None:
        return _code_form(request, "", locked=locked, status=429)
    authorization = (
        DeviceAuthorization.objects.select_related("client")
        .filter(user_code_digest=user_code.digest(code), status=DeviceAuthorization.PENDING)
        .filter(expires_at__gt=timezone.now(), revoked_at__isnull=True)
        .first()
    )
    if authorization is None or not authorization.client.is_active:
        locked = guessing.lockout(request)
        if locked is not None:
            return _code_form(request, "", locked=locked, status=429)
        error = _(
            "That code is not right, or it has expired. Check the code on your device; "
            "if it has expired, start again there."
        )
        return _code_form(request, "", error=error, status=400)
    guessing.uncount(request)
    request.session[SESSION_KEY] = {
        "pk": authorization.pk,
        "code": user_code.display(code),
        # Names this entry in the consent form, so a form shown for one code cannot
        # decide another entered since in a second tab.
        "form": secrets.token_urlsafe(16),
    }
    return redirect("oauthflow:device-confirm")


def _code_form(
    request: HttpRequest,
    value: str,
    *,
    error: str = "",
    locked: guessing.Lockout | None = None,
    status: int = 200,
) -> HttpResponse:
    if locked is not None:
        error = ngettext(
            "Too many wrong codes. For your safety, entering codes is paused for "
            "%(minutes)d minute.",
            "Too many wrong codes. For your safety, entering codes is paused for "
            "%(minutes)d minutes.",
            locked.minutes,
        ) % {"minutes": locked.minutes}
    context = {"value": value, "error": error, "locked": locked is not None}
    return render(request, "oauthflow/device/enter_code.html", context, status=status)


@_page
def confirm(request: HttpRequest) -> HttpResponse:
    """GET: what the device asks for, and from whom. POST: the user's decision."""
    entered = request.session.get(SESSION_KEY)
    if not isinstance(entered, dict):
        entered = {}
    authorization = _pending(entered.get("pk"))
    if authorization is None:
        request.session.pop(SESSION_KEY, None)
        return error_page(
            request,
            "expired_token",
            _("This request has expired or has been answered. Start again on your device."),
        )
    client = authorization.client
    if request.method == "POST":
        if not constant_time_compare(request.POST.get("form", ""), str(entered.get("form"))):
            return error_page(
                request,
                "invalid_request",
                _("This page is out of date: another code was entered since. Enter it again."),
            )
        decision = request.POST.get("decision")
        if decision not in ("allow", "deny"):
            return error_page(request, "invalid_request", _("Choose Allow or Deny."))
        allowed = decision == "allow"
        with transaction.atomic(using=router.db_for_write(DeviceAuthorization)):
            decided = DeviceAuthorization.objects.filter(
                pk=authorization.pk,
                status=DeviceAuthorization.PENDING,
                expires_at__gt=timezone.now(),
                revoked_at__isnull=True,
            ).update(
                status=DeviceAuthorization.APPROVED if allowed else DeviceAuthorization.DENIED,
                user=request.user,
                decided_at=timezone.now(),
            )
            if decided and allowed:
                authorization.user = request.user  # type: ignore[assignment]
                approval.run(request, authorization)
        request.session.pop(SESSION_KEY, None)
        if not decided:
            return error_page(
                request,
                "expired_token",
                _("This request has expired or has been answered. Start again on your device."),
            )
        signals.send(
            signals.authorization_granted if allowed else signals.authorization_denied,
            sender=Consent,
            request=request,
            client=client,
            user=request.user,
            scope=authorization.scope,
        )
        request.session[OUTCOME_KEY] = {"allowed": allowed, "client": client.name}
        return redirect("oauthflow:device-done")
    context = {
        "client": client,
        "scopes": scopes.describe(scopes.scope_to_list(authorization.scope)),
        "user_code": entered.get("code", ""),
        "form": entered.get("form", ""),
    }
    return render(request, "oauthflow/device/consent.html", context)


def _pending(pk: Any) -> DeviceAuthorization | None:
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return (
        DeviceAuthorization.objects.select_related("client")
        .filter(pk=pk, status=DeviceAuthorization.PENDING, exchanged_at__isnull=True)
        .filter(expires_at__gt=timezone.now(), revoked_at__isnull=True, client__is_active=True)
        .first()
    )


@_page
def done(request: HttpRequest) -> HttpResponse:
    """Go back to your device."""
    outcome = request.session.pop(OUTCOME_KEY, None)
    if not isinstance(outcome, dict):
        return redirect("oauthflow:device")
    return render(request, "oauthflow/device/done.html", outcome)
