"""RP-Initiated Logout 1.0: the ``end_session_endpoint``.

A relying party sends the user here (GET or POST) to sign out of this site too, usually
with the ID token it holds (``id_token_hint``), a ``post_logout_redirect_uri`` to come
back to and its ``state``. The user is signed out at once when the hint names the user
signed in here; otherwise (no hint, or a hint about someone else) a page asks them to
confirm, so that a link on another site cannot sign them out. The user is sent back only
to a URI registered for the client (exact match); an unregistered one is refused with an
error page, never redirected to. Signing out tells the relying parties of the session
through back-channel logout (``oauthflow.oidc.backchannel``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from django.apps import apps
from django.contrib.auth import logout
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt

from ..models import Client
from ..server.authorization_server import get_server
from ..server.request import Payload, parse_params
from ..store import lookups
from ..views.pages import error_page, protect, refused, unavailable_page
from . import id_token_hint
from .authentication import use_ui_locales
from .subject import subject_for

PARAMETERS = (
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "logout_hint",
    "ui_locales",
)
#: The confirmation form's proof that this site showed it, to this browser session.
_SALT = "oauthflow.oidc.logout-confirm"
CONFIRM = "confirm"


@never_cache
@xframe_options_deny
@unavailable_page
@csrf_exempt  # relying parties POST here too; the confirmation carries its own proof
def end_session(request: HttpRequest) -> HttpResponse:
    refusal = refused(request)
    if refusal is not None:
        return refusal
    try:
        payload = Payload(parse_params(_source(request)))
        if payload.repeated():
            raise OAuth2Error(error="invalid_request", description="A parameter is repeated.")
        params = {k: payload.data[k] for k in (*PARAMETERS, CONFIRM) if k in payload.data}
        use_ui_locales(params.get("ui_locales", ""))
        client, hinted = _client_and_hint(request, params)
        back = _return_uri(client, params)
        if back and hinted is None and _registered_itself(client):
            # RP-Initiated Logout 1.0 §3: no redirect without id_token_hint unless the
            # target is otherwise trusted. Staff review of a client is such trust; a
            # client that registered itself has none, and would make this an open
            # redirector on the provider's domain.
            back = None
    except OAuth2Error as error:
        return error_page(request, error.error, error.get_error_description())

    user = request.user
    if not user.is_authenticated:
        return _signed_out(request, back)
    confirmed = request.method == "POST" and _confirmation_valid(request, params.get(CONFIRM))
    # HEAD changes nothing: link checkers and prefetchers send it.
    if request.method != "HEAD" and (confirmed or _names(hinted, user, client)):
        logout(request)
        return _signed_out(request, back)
    form = {k: v for k, v in params.items() if k != CONFIRM}
    response = render(
        request,
        "oauthflow/logout.html",
        {"client": client, "params": form, "confirm": _confirmation(request)},
    )
    return protect(response)


def _source(request: HttpRequest) -> str | bytes:
    """The parameters: the query string, or a POST's form body."""
    if request.method != "POST":
        return str(request.META.get("QUERY_STRING", ""))
    if (request.content_type or "").lower() != "application/x-www-form-urlencoded":
        raise OAuth2Error(
            error="invalid_request",
            description="The body must be application/x-www-form-urlencoded.",
        )
    try:
        return request.body
    except RequestDataTooBig:
        raise OAuth2Error(
            error="invalid_request", description="The request body is too large."
        ) from None


def _names(hinted: Any, user: Any, client: Client | None) -> bool:
    """Whether the id_token_hint names the user signed in here."""
    if client is None or hinted is None:
        return False
    try:
        return bool(hinted == subject_for(user, client))
    except ValueError:  # a pairwise client without a sector: refused at registration
        return False


def _client_and_hint(request: HttpRequest, params: dict[str, str]) -> tuple[Client | None, Any]:
    """The client the request is about (the hint's audience or ``client_id``, which must
    agree) and the subject the hint names."""
    client_id = params.get("client_id")
    hinted = None
    if params.get("id_token_hint"):
        claims = id_token_hint.verify(params["id_token_hint"], get_server().issuer(request))
        audiences = id_token_hint.audiences(claims)
        if client_id is not None and client_id not in audiences:
            raise OAuth2Error(
                error="invalid_request",
                description="The client_id is not the audience of the id_token_hint.",
            )
        client_id = client_id or audiences[0]
        hinted = claims["sub"]
    if client_id is None:
        return None, None
    client = lookups.client.get(client_id) if len(client_id) <= 100 else None
    if client is None or not client.is_active:
        raise OAuth2Error(error="invalid_request", description="The client is unknown.")
    return client, hinted


def _registered_itself(client: Client | None) -> bool:
    if client is None or not apps.is_installed("oauthflow.registration"):
        return False
    from ..registration.models import ClientRegistration

    return ClientRegistration.objects.filter(client=client).exists()


def _return_uri(client: Client | None, params: dict[str, str]) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if not uri:
        return None
    if client is None or uri not in client.post_logout_redirect_uris.split():
        raise OAuth2Error(
            error="invalid_request",
            description="The post_logout_redirect_uri is not registered for this client.",
        )
    state = params.get("state")
    if not state:
        return uri
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode({"state": state})]))
    return urlunsplit(parts._replace(query=query))


def _signed_out(request: HttpRequest, back: str | None) -> HttpResponse:
    if back:
        return HttpResponseRedirect(back)
    return protect(render(request, "oauthflow/logged_out.html"))


def _session_proof(request: HttpRequest) -> str:
    # A MAC of the session key, never the key itself: the page must not reveal the
    # session cookie's value to a script that can read it.
    session_key = request.session.session_key or ""
    return salted_hmac(_SALT, session_key, algorithm="sha256").hexdigest() if session_key else ""


def _confirmation(request: HttpRequest) -> str:
    return signing.dumps(_session_proof(request), salt=_SALT)


def _confirmation_valid(request: HttpRequest, value: str | None) -> bool:
    if not value:
        return False
    try:
        proof = signing.loads(value, salt=_SALT, max_age=600)
    except signing.BadSignature:
        return False
    expected = _session_proof(request)
    return bool(expected) and isinstance(proof, str) and constant_time_compare(proof, expected)
