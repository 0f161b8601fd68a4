"""The authorization endpoint (RFC 6749 §3.1) and its consent page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from django.contrib.auth.views import redirect_to_login
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_protect

from .. import prompt as prompt_login
from .. import scope as scopes
from .. import signals
from ..adapter import get_adapter
from ..models import Client, Consent
from ..server.authorization_server import get_server
from ..server.request import Payload, parse_params
from ..settings import oauthflow_settings
from .pages import error_page, protect, refused, unavailable_page

#: Said in JSON to clients (English, ASCII: RFC 6749 §5.2) and, translated, on the page.
INSECURE = "OAuth requests must use https."


@never_cache
@xframe_options_deny
@unavailable_page
@csrf_protect
def authorize(request: HttpRequest) -> HttpResponse:
    """GET validates the request and shows consent; POST records the user's decision.

    Until the client and redirect URI are verified, every problem is an error page;
    after that, errors go back to the client by redirect with ``state`` and ``iss``.
    """
    refusal = refused(request)
    if refusal is not None:
        return refusal
    try:
        pairs = parse_params(request.META.get("QUERY_STRING", ""))
        login_mark = dict(pairs).get(prompt_login.PARAMETER)
        pairs = [(k, v) for k, v in pairs if k != prompt_login.PARAMETER]
        # The URL's own parameters name the request (sign-in redirects come back to it);
        # with request_uri, the parameters themselves come from where it points.
        payload = Payload(_request_parameters(request, pairs))
        if payload.repeated():
            raise InvalidRequestError("A parameter is repeated.")
    except OAuth2Error as error:
        return error_page(request, error.error, error.get_error_description())

    server = get_server()
    oauth_request = server.authorization_request(request, payload)
    user = request.user if request.user.is_authenticated else None
    try:
        grant = server.get_consent_grant(oauth_request, end_user=user)
    except OAuth2Error as error:
        return _error_response(request, oauth_request, error)
    pushed = getattr(request, "oauthflow_pushed", False)
    if not pushed and (
        oauthflow_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS
        or grant.client.require_pushed_authorization_requests
    ):
        # RFC 9126 §4: before anything else, signed in or not; refused here in the core,
        # so it holds even where oauthflow.par is not installed.
        return _redirect_error(
            request, grant, "invalid_request", "Authorization requests must be pushed first (PAR)."
        )

    prompt = set(payload.data.get("prompt", "").split())
    if "none" in prompt and len(prompt) > 1:
        return _redirect_error(request, grant, "invalid_request", "prompt=none stands alone.")
    # A pushed request's parameters stay out of URLs, the sign-in page's included.
    login_hint = None if pushed else payload.data.get("login_hint")
    if user is None:
        if "none" in prompt:
            return _redirect_error(request, grant, "login_required", "The user is not signed in.")
        if "login" in prompt:
            return _to_login(prompt_login.url_with_mark(request.path, pairs), login_hint)
        return _to_login(request.get_full_path(), login_hint)
    # The consent form posts back to this URL; only the page view asks for a new sign-in.
    signed_in_now = prompt_login.signed_in_since(login_mark, pairs, user)
    if "login" in prompt and request.method != "POST" and not signed_in_now:
        return _to_login(prompt_login.url_with_mark(request.path, pairs), login_hint)
    # Every check runs, even after one asked for a new sign-in: a later one may refuse.
    sign_in_again = None
    for check in grant.server.registry.authorization_checks():
        try:
            check(request, grant, user)
        except prompt_login.SignInAgain as reason:
            sign_in_again = sign_in_again or reason
        except OAuth2Error as error:
            error.redirect_uri = grant.redirect_uri
            error.state = grant.request.payload.state
            return _error_response(request, grant.request, error)
    if sign_in_again is not None:
        if "none" in prompt:
            return _redirect_error(request, grant, "login_required", str(sign_in_again))
        if request.method != "POST" and not signed_in_now:
            return _to_login(prompt_login.url_with_mark(request.path, pairs), login_hint)

    client: Client = grant.client
    scope: str = grant.request.scope
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "allow":
            return _grant(request, grant, user, remember=True)
        if decision == "deny":
            _announce(signals.authorization_denied, request, grant, user)
            return _finish(request, grant, None)
        return error_page(request, "invalid_request", _("Choose Allow or Deny."))

    # What the client would learn beyond its scopes (claims asked for by name): a
    # remembered consent covers scopes only, so such a request is always shown.
    details = [line for lines in grant.server.registry.consent_details() for line in lines(grant)]
    consent = Consent.objects.filter(user=user, client=client).first()
    if (not details or client.skip_consent) and get_adapter().may_skip_consent(
        request,
        client=client,
        user=user,
        scope=scope,
        consent=consent,
        prompt=prompt,
        redirect_uri=grant.redirect_uri,
    ):
        return _grant(request, grant, user, remember=False)
    if "none" in prompt:
        return _redirect_error(request, grant, "consent_required", "The user has not consented.")
    notices = [n for notice in grant.server.registry.consent_notices() if (n := notice(grant))]
    response = render(
        request,
        "oauthflow/authorize.html",
        {
            "client": client,
            "scopes": scopes.describe(scopes.scope_to_list(scope)),
            "details": details,
            "notices": notices,
            "redirect_uri": grant.redirect_uri,
        },
    )
    return protect(response)


def _request_parameters(request: HttpRequest, pairs: list[tuple[str, str]]) -> Any:
    """The authorization request's parameters: the query's, or those its ``request_uri``
    names (RFC 9126 §4, through the registry's resolver)."""
    if not any(key == "request_uri" for key, _ in pairs):
        return pairs
    if request.method == "HEAD":
        # A link checker's HEAD must not use a single-use reference up.
        raise InvalidRequestError("Use GET with request_uri.")
    resolve = get_server().registry.request_uri_resolver()
    if resolve is None:
        raise OAuth2Error(
            error="request_uri_not_supported", description="request_uri is not supported."
        )
    return resolve(request, pairs)


def _to_login(next_url: str, login_hint: str | None) -> HttpResponse:
    """The sign-in page, told who the client expects (``login_hint``, OpenID Connect Core
    §3.1.2.1) so it can fill in the name; it is only a hint, never trusted."""
    response = redirect_to_login(next_url)
    if login_hint:
        response["Location"] += "&" + urlencode({"login_hint": login_hint})
    return response


def _grant(request: HttpRequest, grant: Any, user: Any, *, remember: bool) -> HttpResponse:
    """Issue the code, remembering the consent first when asked: the two in one
    transaction, so a consent is never kept for a request that failed."""
    if not remember:
        response = _finish(request, grant, user)
    else:
        with transaction.atomic(using=router.db_for_write(Consent)):
            _remember(user, grant.client, grant.request.scope)
            response = _finish(request, grant, user)
    _announce(signals.authorization_granted, request, grant, user)
    return response


def _remember(user: Any, client: Client, scope: str) -> None:
    """Record that ``user`` allowed ``client`` ``scope``, widening an earlier consent.

    It writes before it reads, with one statement that creates the row or locks the one
    there (an upsert: ON CONFLICT / ON DUPLICATE KEY): concurrent "Allow" submissions then
    queue on that row. Reading first fails on SQLite, where a transaction that has read
    cannot wait for a writer ("database is locked"); a plain INSERT that collides leaves
    a shared lock on MariaDB, and two such transactions deadlock when they then lock it.
    """
    db = router.db_for_write(Consent)
    features = connections[db].features
    Consent.objects.using(db).bulk_create(
        [Consent(user=user, client=client, scope=scope)],
        update_conflicts=True,
        update_fields=["updated_at"],
        # MySQL and MariaDB name no target: the conflict is on any unique key.
        unique_fields=["user", "client"]
        if features.supports_update_conflicts_with_target
        else None,
    )
    consent = Consent.objects.using(db).select_for_update().get(user=user, client=client)
    if not consent.covers(scope):
        consent.scope = scopes.list_to_scope(consent.scope_list + scopes.scope_to_list(scope))
        consent.save(update_fields=["scope", "updated_at"])


def _announce(signal: Any, request: HttpRequest, grant: Any, user: Any) -> None:
    signals.send(
        signal,
        sender=Consent,
        request=request,
        client=grant.client,
        user=user,
        scope=grant.request.scope,
    )


def _finish(request: HttpRequest, grant: Any, user: Any) -> HttpResponse:
    """Issue the code (user given) or access_denied (user None), as a redirect with iss."""
    server = get_server()
    response = server.create_authorization_response(grant.request, grant_user=user, grant=grant)
    return _to_client(server.with_issuer(response, request), request)


def _to_client(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """An authorization response (a code, or an error) going back to the client: the
    request is answered, and what kept it for the browser lets it go (a pushed request's
    ``oauthflow_answered`` callback, set by its resolver)."""
    answered = getattr(request, "oauthflow_answered", None)
    if answered is not None:
        answered()
    return response


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
        server = get_server()
        response = server.handle_error_response(oauth_request, error)
        return _to_client(server.with_issuer(response, request), request)
    return error_page(request, error.error, error.get_error_description())
