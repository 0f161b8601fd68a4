"""The registration endpoint (RFC 7591 §3) and the client configuration endpoint
(RFC 7592 §2): JSON in and out, over https, never cached.

Off (``DYNAMIC_REGISTRATION`` False), both answer 404, as if they did not exist. Every
answer is JSON with a fixed ``error_description``; every write happens in one
transaction, so a refused request leaves no row behind and uses nothing up.

The views hold tokens, a new client secret and the request's document in their locals:
they are ``sensitive_variables()``, so Django's error reports (the 500 e-mail, the log)
show none of them, nor anything of the functions they call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import router, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from .. import unavailable
from ..models import Client
from ..server.authorization_server import get_server
from ..server.request import check_transport
from ..settings import oauthflow_settings
from ..store.clients import delete_client
from ..views.authorize import INSECURE
from . import guard, metadata
from .metadata import RegistrationError
from .models import ClientRegistration

MODES = ("initial_access_token", "open")
_INVALID_TOKEN = {
    "register": "The initial access token is missing, unknown, expired, used up or revoked.",
    "manage": "The registration access token is not valid for this client.",
}


def is_on() -> bool:
    return oauthflow_settings.DYNAMIC_REGISTRATION in MODES


def _endpoint(
    methods: tuple[str, ...], kind: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """404 while registration is off; then the method, https, and the errors every
    answer shares (401 with a Bearer challenge, 400 in JSON, 503 while the database is
    down)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        # The view itself is sensitive_variables(): this wrapper's frame holds only the
        # request, and its error report leaves the request's POST data out.
        @csrf_exempt
        @sensitive_post_parameters()
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_on():
                raise Http404
            if request.method not in methods:
                response = _json(
                    {"error": "invalid_request", "error_description": "Method not allowed."}, 405
                )
                response["Allow"] = ", ".join(methods)
                return response
            if not check_transport(request):
                return _error(RegistrationError(INSECURE, "invalid_request"))
            try:
                return view(request, *args, **kwargs)
            except guard.Unauthorized as refused:
                return _unauthorized(refused, _INVALID_TOKEN[kind])
            except RegistrationError as error:
                return _error(error)
            except unavailable.DATABASE_UNAVAILABLE as error:
                unavailable.log(error)
                return unavailable.json_response()

        wrapped.__doc__ = view.__doc__
        wrapped.__name__ = view.__name__
        return wrapped

    return decorate


@_endpoint(("POST",), "register")
@sensitive_variables()
def register(request: HttpRequest) -> HttpResponse:
    """Register a client (RFC 7591 §3.1)."""
    presented = guard.bearer_token(request)
    initial = None
    if presented is not None:
        # Open or not, a token presented is checked and counted: a client that has one
        # behaves the same whatever the mode.
        initial = guard.check_initial_access_token(presented)
    elif oauthflow_settings.DYNAMIC_REGISTRATION != "open":
        raise guard.Unauthorized(None)

    requested = metadata.read(_document(request))
    client = Client()
    metadata.apply(client, requested)
    metadata.validate(client)
    metadata.check_destinations(requested)
    secret = client.set_secret() if client.uses_secret else None
    token, digest, hint = guard.new_registration_access_token()
    with transaction.atomic(using=router.db_for_write(Client)):
        if initial is not None:
            guard.use_initial_access_token(initial)
        client.save()
        registration = ClientRegistration.objects.create(
            client=client,
            access_token_digest=digest,
            access_token_hint=hint,
            initial_access_token=initial,
            initial_access_token_hint=initial.hint if initial is not None else "",
            software_id=requested.software_id,
            software_version=requested.software_version,
        )
    return _json(_information(request, registration, token, secret), 201)


@_endpoint(("GET", "PUT", "DELETE"), "manage")
@sensitive_variables()
def manage(request: HttpRequest, client_id: str) -> HttpResponse:
    """Read, update or delete a registration (RFC 7592 §2)."""
    registration = guard.registration_for(request, client_id)
    # The token the request carries: it was checked, and the client holds it already.
    token = guard.bearer_token(request) or ""
    client = registration.client
    if request.method == "DELETE":
        # Revoked first, then deleted (its registration with it): RFC 7592 §2.3.
        delete_client(client, by="client")
        response = HttpResponse(status=204)
        _no_store(response)
        return response
    secret = None
    if request.method == "PUT":
        secret = _update(request, registration)
    return _json(_information(request, registration, token, secret), 200)


@sensitive_variables()
def _update(request: HttpRequest, registration: ClientRegistration) -> str | None:
    """Replace the client's metadata (RFC 7592 §2.2); a new secret if it needs one.

    Judged first on the client as read (no lock held while the DNS is asked), then again
    on the row locked in the transaction, to which only what a registration may set is
    written: staff changing other columns meanwhile (deactivating it, letting it
    introspect...) lose nothing.
    """
    document = _document(request)
    _check_identity(document, registration.client)
    requested = metadata.read(document, current=registration.client)
    metadata.apply(registration.client, requested)
    metadata.validate(registration.client)
    metadata.check_destinations(requested)
    with transaction.atomic(using=router.db_for_write(Client)):
        client = (
            Client.objects.select_for_update()
            .filter(
                pk=registration.client.pk,
                is_active=True,
                dynamic_registration__pk=registration.pk,
            )
            .first()
        )
        if client is None:
            # Deactivated, or its registration deleted, since the token was checked.
            raise guard.Unauthorized()
        _check_identity(document, client)
        requested = metadata.read(document, current=client)
        metadata.apply(client, requested)
        metadata.validate(client)
        # A client that now authenticates with a secret and has none (it was public, or
        # used keys) gets one, shown in this response only; one that no longer uses a
        # secret loses it (Client.save).
        secret = client.set_secret() if client.uses_secret and not client.has_secret else None
        client.save(update_fields=sorted({*requested.fields, "name", *Client.SECRET_FIELDS}))
        registration.client = client
        registration.software_id = requested.software_id
        registration.software_version = requested.software_version
        registration.save(update_fields=["software_id", "software_version"])
    return secret


@sensitive_variables()
def _check_identity(document: dict[str, Any], client: Client) -> None:
    """RFC 7592 §2.2: the document names this client, and a secret it sends is the
    current one (a client never chooses its secret)."""
    if document.get("client_id") != client.client_id:
        raise RegistrationError("client_id: must be this client's own.")
    sent_secret = document.get("client_secret")
    if sent_secret is not None and not (
        isinstance(sent_secret, str) and client.check_client_secret(sent_secret)
    ):
        raise RegistrationError("client_secret: does not match this client's secret.")


@sensitive_variables()
def _document(request: HttpRequest) -> dict[str, Any]:
    if (request.content_type or "").lower() != "application/json":
        raise RegistrationError("The body must be application/json.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > metadata.MAX_BODY:
        # Refused unread: a huge body is not worth taking in.
        raise RegistrationError("The registration request is too large.")
    try:
        body = request.body
    except RequestDataTooBig:
        # Larger than DATA_UPLOAD_MAX_MEMORY_SIZE without a Content-Length saying so
        # (chunked, on ASGI): Django refuses it as it reads; the answer stays JSON.
        raise RegistrationError("The registration request is too large.") from None
    return metadata.parse_document(body)


def _information(
    request: HttpRequest, registration: ClientRegistration, token: str, secret: str | None
) -> dict[str, Any]:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3)."""
    client = registration.client
    body = metadata.describe(
        client,
        software_id=registration.software_id,
        software_version=registration.software_version,
    )
    if secret is not None:
        body["client_secret"] = secret
    issuer = get_server().issuer(request)
    body["registration_client_uri"] = issuer + reverse(
        "oauthflow:register-client", args=[client.client_id]
    )
    body["registration_access_token"] = token
    return body


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    _no_store(response)
    return response


def _no_store(response: HttpResponse) -> None:
    # Secrets and tokens: never kept by a cache (RFC 7591 §3.2.1).
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


def _error(error: RegistrationError) -> JsonResponse:
    return _json({"error": error.error, "error_description": error.description}, 400)


def _unauthorized(refused: guard.Unauthorized, description: str) -> JsonResponse:
    """RFC 6750 §3: a challenge, with ``invalid_token`` unless no token was sent. Without
    one (§3.1) the challenge carries no error code, and the body says ``invalid_request``:
    the credential the request needs is missing."""
    if refused.error is None:
        response = _json({"error": "invalid_request", "error_description": description}, 401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    response = _json({"error": refused.error, "error_description": description}, 401)
    response["WWW-Authenticate"] = (
        f'Bearer error="{refused.error}", error_description="{description}"'
    )
    return response
