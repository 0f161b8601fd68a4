"""HTTP endpoints of the authorization server: authorize (+ consent), token, metadata."""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from . import scope as scopes
from .consent import authorized_apps_of
from .grants import CLIENT_AUTH_METHODS
from .models import GRANT_TYPES, Client, Consent
from .request import authorization_payload, check_transport
from .revocation import revoke_grant
from .server import server
from .signals import authorization_denied, authorization_granted

#: Session key marking when prompt=login sent the user to sign in again.
LOGIN_REQUESTED_AT = "oauthflow_login_requested_at"

_INSECURE = "OAuth requests must use https."


def error_page(
    request: HttpRequest, error: str, description: str, status: int = 400
) -> HttpResponse:
    """An error the user sees, used when redirecting to the client would be unsafe."""
    response = render(
        request,
        "oauthflow/error.html",
        {"error": error, "description": description},
        status=status,
    )
    _protect(response)
    return response


def _protect(response: HttpResponse) -> HttpResponse:
    # Pages of the authorization endpoint must not be framed (RFC 9700 §4.16) or cached.
    response.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    # same-origin, not no-referrer: the URL (state, client_id) still never leaks to another
    # site, but under no-referrer browsers send "Origin: null" with the consent form's
    # POST, and Django's CSRF check rightly refuses that.
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@xframe_options_deny
@csrf_protect
def authorize(request: HttpRequest) -> HttpResponse:
    """The authorization endpoint (RFC 6749 §3.1): GET shows consent, POST records it.

    Until the client and redirect URI are verified, every problem is an error page;
    after that, errors go back to the client by redirect with ``state`` and ``iss``.
    """
    if request.method not in ("GET", "POST"):
        response = error_page(request, "invalid_request", "Use GET or POST.", status=405)
        response["Allow"] = "GET, POST"
        return response
    if not check_transport(request):
        return error_page(request, "invalid_request", _INSECURE)
    try:
        payload = authorization_payload(request)
        if payload.repeated():
            raise InvalidRequestError("A parameter is repeated.")
    except OAuth2Error as error:
        return error_page(request, error.error, error.get_error_description())

    oauth_request = server.authorization_request(request, payload)
    user = request.user if request.user.is_authenticated else None
    try:
        grant = server.get_consent_grant(oauth_request, end_user=user)
    except OAuth2Error as error:
        return _error_response(request, oauth_request, error)

    prompt = set(payload.data.get("prompt", "").split())
    if "none" in prompt and len(prompt) > 1:
        return _redirect_error(request, grant, "invalid_request", "prompt=none stands alone.")
    if user is None:
        if "none" in prompt:
            return _redirect_error(request, grant, "login_required", "The user is not signed in.")
        return redirect_to_login(request.get_full_path())
    if "login" in prompt and request.method == "GET" and not _signed_in_since_asked(request):
        request.session[LOGIN_REQUESTED_AT] = timezone.now().isoformat()
        return redirect_to_login(request.get_full_path())

    client: Client = grant.client
    scope: str = grant.request.scope
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "allow":
            return _grant(request, grant, user, remember=True)
        if decision == "deny":
            authorization_denied.send(
                sender=authorize, request=request, client=client, user=user, scope=scope
            )
            return _finish(request, grant, None)
        return error_page(request, "invalid_request", "Choose Allow or Deny.")

    consent = Consent.objects.filter(user=user, client=client).first()
    if client.skip_consent or (
        consent is not None and consent.covers(scope) and "consent" not in prompt
    ):
        return _grant(request, grant, user, remember=False)
    if "none" in prompt:
        return _redirect_error(request, grant, "consent_required", "The user has not consented.")
    response = render(
        request,
        "oauthflow/authorize.html",
        {
            "client": client,
            "scopes": scopes.describe(scopes.scope_to_list(scope)),
            "redirect_uri": grant.redirect_uri,
        },
    )
    return _protect(response)


def _signed_in_since_asked(request: HttpRequest) -> bool:
    """prompt=login: has the user signed in after we last sent them to the login page?"""
    asked = parse_datetime(request.session.get(LOGIN_REQUESTED_AT) or "")
    last_login = getattr(request.user, "last_login", None)
    return bool(asked and last_login and last_login > asked)


def _grant(request: HttpRequest, grant: Any, user: Any, *, remember: bool) -> HttpResponse:
    client: Client = grant.client
    scope: str = grant.request.scope
    with transaction.atomic():
        if remember:
            consent, created = Consent.objects.select_for_update().get_or_create(
                user=user, client=client, defaults={"scope": scope}
            )
            if not created and not consent.covers(scope):
                consent.scope = scopes.list_to_scope(
                    consent.scope_list + scopes.scope_to_list(scope)
                )
                consent.save(update_fields=["scope", "updated_at"])
        response = _finish(request, grant, user)
    request.session.pop(LOGIN_REQUESTED_AT, None)
    authorization_granted.send(
        sender=authorize, request=request, client=client, user=user, scope=scope
    )
    return response


def _finish(request: HttpRequest, grant: Any, user: Any) -> HttpResponse:
    """Issue the code (user given) or access_denied (user None), as a redirect with iss."""
    response = server.create_authorization_response(grant.request, grant_user=user, grant=grant)
    return server.with_issuer(response, request)


def _redirect_error(request: HttpRequest, grant: Any, error: str, description: str) -> HttpResponse:
    oauth_error = OAuth2Error(
        description=description,
        error=error,
        state=grant.request.payload.state,
        redirect_uri=grant.redirect_uri,
    )
    return _error_response(request, grant.request, oauth_error)


def _error_response(request: HttpRequest, oauth_request: Any, error: OAuth2Error) -> HttpResponse:
    if error.redirect_uri:
        response = server.handle_error_response(oauth_request, error)
        return server.with_issuer(response, request)
    return error_page(request, error.error, error.get_error_description())


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint (RFC 6749 §3.2): JSON in every case, never cached."""
    return _token_endpoint(request, lambda: server.create_token_response(request))


@csrf_exempt
def revoke(request: HttpRequest) -> HttpResponse:
    """The revocation endpoint (RFC 7009)."""
    return _token_endpoint(request, lambda: server.create_endpoint_response("revocation", request))


def _token_endpoint(request: HttpRequest, handle) -> HttpResponse:
    """What the token, revocation and introspection endpoints share: POST over https."""
    if request.method != "POST":
        response = _json_error("invalid_request", "Use POST.", status=405)
        response["Allow"] = "POST"
        return response
    if not check_transport(request):
        return _json_error("invalid_request", _INSECURE)
    return handle()


def _json_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def metadata(request: HttpRequest) -> HttpResponse:
    """Authorization server metadata (RFC 8414), at /.well-known/oauth-authorization-server."""
    issuer = server.issuer(request)
    body = {
        "issuer": issuer,
        "authorization_endpoint": issuer + reverse("oauthflow:authorize"),
        "token_endpoint": issuer + reverse("oauthflow:token"),
        "scopes_supported": list(scopes.known_scopes()),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "revocation_endpoint": issuer + reverse("oauthflow:revoke"),
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    # Public and the same for everyone: any origin may read it, caches may keep it a while.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@never_cache
@xframe_options_deny
@csrf_protect
@login_required
def authorized_apps(request: HttpRequest) -> HttpResponse:
    """The signed-in user's authorized apps, each with a button that withdraws access.

    Withdrawing revokes every code and token the app holds for this user and forgets the
    consent, so the next authorization request asks again.
    """
    if request.method == "POST":
        client = Client.objects.filter(client_id=request.POST.get("client_id", "")).first()
        if client is None:
            return error_page(request, "invalid_request", "Unknown app.")
        revoke_grant(client, request.user, by="user")
        messages.success(request, f"{client.name} can no longer use your account.")
        return redirect("oauthflow:authorized-apps")
    response = render(
        request, "oauthflow/authorized_apps.html", {"apps": authorized_apps_of(request.user)}
    )
    return _protect(response)
