"""Authlib's authorization server core, wired to Django, the store and the registry."""

from __future__ import annotations

import functools
import inspect
import json
from contextvars import ContextVar
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749 import UnsupportedGrantTypeError as _UnsupportedGrantTypeError
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse

from .. import cors, formats, signals, tokens
from ..adapter import get_adapter
from ..models import AccessToken, AuthorizationCode, Client, RefreshToken
from ..scope import known_scopes
from ..settings import oauthflow_settings
from ..store import lookups
from ..store.issue import issue_tokens
from ..store.revocation import revoke_family
from ..subjects import subject_for
from . import binding, log_filter, resources
from .errors import (
    InvalidTargetError,
    ReuseDetected,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from .registry import Registry, registry
from .request import DjangoOAuth2Request, Payload, form_payload

CLIENT_AUTHENTICATION_FAILED = (
    "Client authentication failed: the client is unknown or disabled, its secret is wrong, "
    "or it used an authentication method this endpoint does not accept."
)


class AuthorizationServer(_AuthorizationServer):
    """The authorization and token endpoints' protocol engine, built from a registry.

    Settings are read on every call, not captured here, so a changed ``OAUTHFLOW``
    (``override_settings`` in tests) takes effect at once.
    """

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self.registry = registry
        self.register_token_generator("default", self._generate_token)
        for grant, extensions in registry.grants():
            self.register_grant(grant, extensions)
        for endpoint in registry.endpoints():
            self.register_endpoint(endpoint)
        for name, authenticate in registry.client_auth_methods().items():
            self.register_client_auth_method(name, authenticate)

    # Authlib reads this attribute; ours follows the settings.
    @property
    def scopes_supported(self) -> list[str]:
        return list(known_scopes())

    @scopes_supported.setter
    def scopes_supported(self, value: Any) -> None:
        """Ignored: scopes come from ``OAUTHFLOW['SCOPES']``."""

    def validate_requested_scope(self, scope: str | None) -> None:
        # Authlib's answer says only "invalid, unknown, or malformed".
        if scope and not set(scope.split()) <= set(known_scopes()):
            raise InvalidScopeError(
                "The requested scope is unknown or not allowed for this client."
            )

    # Storage hooks ------------------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > 100:
            return None
        if not client_id.isascii() or not client_id.isprintable():
            return None  # never a client_id, and not every database takes it
        if tokens.looks_issued(client_id):
            # A client that swapped its id and secret: never a client_id (they are made
            # without these prefixes), and not to be sent to the database, where a query
            # log would keep it.
            return None
        client = lookups.client.get(client_id)
        return client if client is not None and client.is_active else None

    def _generate_token(
        self,
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        granted = client.get_allowed_scope(scope)
        if granted is None:
            raise InvalidScopeError(client.scope_problem(scope))
        request = _token_request.get()
        targets = list(getattr(request, "resources", None) or [])
        if targets:
            granted = resources.narrow_scope(granted, targets)
            if not granted:
                raise InvalidScopeError("None of the granted scopes is accepted by the resource.")
        adapter = get_adapter()
        choose = adapter.get_access_token_format
        # An adapter written before resource indicators takes no ``resources``.
        extra = {"resources": targets} if _takes(choose, "resources") else {}
        name = choose(client=client, user=user, scope=granted, grant_type=grant_type, **extra)
        token_format = formats.get(name)
        if getattr(token_format, "needs_audience", False) and not targets:
            raise InvalidTargetError("A JWT access token is for a resource: name one.")
        expires_in = expires_in or _lifetime(token_format.self_contained, targets)
        context: dict[str, Any] = {}
        if token_format.self_contained and request is not None:
            context = {
                "issuer": self.issuer(request.django_request),
                "audience": [r.identifier for r in targets],
                "subject": subject_for(user, client) if user is not None else None,
            }
            if targets:
                context["alg"] = targets[0].signing_alg
            for contribute in self.registry.token_claims():
                context.update(contribute(request))
            if (
                "cnf" in context
                and "cnf" not in inspect.signature(token_format.generate).parameters
            ):
                # A format that would drop the key binding would make a bearer token of a
                # token the client was told is bound.
                raise InvalidRequestError(
                    "This resource's access token format cannot be bound to a DPoP key."
                )
            # A format written before this context existed takes none of it.
            context = {k: v for k, v in context.items() if _takes(token_format.generate, k)}
        token: dict[str, Any] = {
            "access_token": token_format.generate(
                client=client, user=user, scope=granted, expires_in=expires_in, **context
            ),
            # A sender-constraining extension (DPoP) rewrites it in its
            # after_create_token_response hook, as it binds the token.
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": granted,
        }
        if include_refresh_token:
            token["refresh_token"] = formats.new_refresh_token()
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> AccessToken:
        """Store the digests of a token response; the clear values only go to the client."""
        access, refresh = issue_tokens(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            client=request.client,
            user=request.user,
            scope=token["scope"],
            expires_in=token["expires_in"],
            parent=getattr(request, "consumed", None),
            resource=" ".join(r.identifier for r in getattr(request, "resources", None) or []),
            # Set by a sender-constraining extension (oauthflow.dpop): the key thumbprints
            # the access and refresh tokens are bound to.
            jkt=getattr(request, "dpop_jkt", "") or "",
            refresh_jkt=getattr(request, "dpop_refresh_jkt", "") or "",
        )
        request.issued = (access, refresh)
        return access

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> Any:
        # RFC 6749 §2.3: one method per request; §5.2 names the error.
        form = request.payload.data
        used = [
            request.headers.get("Authorization", "").lower().startswith("basic "),
            "client_secret" in form,
            "client_assertion" in form or "client_assertion_type" in form,
        ]
        if sum(used) > 1:
            raise InvalidRequestError("Use one client authentication method per request.")
        # Credentials from a web page: only confidential clients have them, and they allow
        # no origin (oauthflow.cors). Refused before they are checked, since checking can
        # write (a client assertion's jti, a legacy secret's upgrade).
        if any(used) and cors.from_a_page(getattr(request, "django_request", None)):
            cors.refuse(request.django_request)
            basic = bool(used[0])
            raise InvalidClientError(
                status_code=401 if basic else 400, description=cors.ORIGIN_REFUSED
            )
        # Grants and endpoints name the secret methods; a registered key-based method
        # (private_key_jwt) is accepted wherever a secret is.
        methods = self.registry.endpoint_auth_methods(methods)
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            # Authlib's sentence ends in a Python list; ours is a sentence, and the same
            # whichever check failed, so it tells a prober nothing.
            if str(error.description).startswith("The client cannot authenticate"):
                error.description = CLIENT_AUTHENTICATION_FAILED
            raise
        # A page on a web origin this client does not allow: refused before anything is
        # written, since a form POST reaches us without a preflight (oauthflow.cors).
        if not cors.admits(getattr(request, "django_request", None), client):
            cors.refuse(request.django_request)
            basic = request.auth_method == "client_secret_basic"
            raise InvalidClientError(
                status_code=401 if basic else 400, description=cors.ORIGIN_REFUSED
            )
        return client

    # Authlib echoes the request's response_type or grant_type into error_description;
    # ours answer with fixed text, so hostile input never reaches a response.

    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        if request.payload.response_type == "code":
            return super().get_authorization_grant(request)
        redirect_uri = self._verified_redirect_uri(request)
        if not request.payload.response_type:
            # RFC 6749 §4.1.2.1: a missing parameter is invalid_request.
            raise InvalidRequestError("Missing 'response_type'.", redirect_uri=redirect_uri)
        raise UnsupportedResponseTypeError(redirect_uri=redirect_uri)

    def _verified_redirect_uri(self, request: OAuth2Request) -> str | None:
        """The redirect URI an error may go to: only one registered for a known client."""
        client = self.query_client(request.payload.client_id)
        if client is None:
            return None
        requested = request.payload.redirect_uri
        if requested:
            return requested if client.check_redirect_uri(requested) else None
        return client.get_default_redirect_uri()

    def get_token_grant(self, request: OAuth2Request) -> Any:
        if not request.payload.grant_type:
            raise InvalidRequestError("Missing 'grant_type'.")
        try:
            return super().get_token_grant(request)
        except _UnsupportedGrantTypeError:
            raise UnsupportedGrantTypeError(self.registry.grant_types()) from None

    # Django glue --------------------------------------------------------------------------

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return DjangoOAuth2Request(request, form_payload(request))

    def handle_response(self, status: int, body: Any, headers: list) -> HttpResponse:
        if isinstance(body, dict):
            body = json.dumps(body)
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's own signals are not used; ours are sent by the views and here."""

    # Token endpoint -----------------------------------------------------------------------

    def create_token_response(self, request: Any = None) -> HttpResponse:
        """Run one token request; its writes are one transaction: all or nothing.

        A detected reuse rolls back, then revokes the whole family in a transaction of
        its own, so the revocation survives the rollback of the request that found it.
        """
        try:
            oauth_request = self.create_oauth2_request(request)
        except OAuth2Error as error:
            return self.handle_error_response(None, error)
        entered = _token_request.set(oauth_request)
        try:
            grant = self.get_token_grant(oauth_request)
            # Validation only reads (single use is guarded by the conditional UPDATE that
            # create_token_response runs first), so the transaction covers just the writes:
            # shorter, and one fewer round trip where there is one write (client_credentials).
            grant.validate_token_request()
            oauth_request.resources = _resources_of(oauth_request)
            # Sender-constraint checks (DPoP), outside the transaction; then what the core
            # refuses whatever is installed (oauthflow.server.binding).
            grant.execute_hook(binding.TOKEN_REQUEST_VALIDATED)
            binding.check(oauth_request)
            if getattr(grant, "WRITES_ONE_ROW", False):
                status, body, headers = grant.create_token_response()
            else:
                with transaction.atomic(using=router.db_for_write(AccessToken)):
                    status, body, headers = grant.create_token_response()
        except ReuseDetected as error:
            revoke_family(error.family, by="reuse-detection", client=error.client, user=error.user)
            signals.send(
                signals.token_reuse_detected,
                sender=RefreshToken if error.credential == "refresh_token" else AuthorizationCode,
                request=request,
                client=error.client,
                user=error.user,
                family=error.family,
                credential=error.credential,
            )
            return self.handle_error_response(oauth_request, error)
        except OAuth2Error as error:
            return self.handle_error_response(oauth_request, error)
        finally:
            _token_request.reset(entered)
        access, refresh = oauth_request.issued
        signals.send(
            signals.token_issued,
            sender=AccessToken,
            request=request,
            client=oauth_request.client,
            user=oauth_request.user,
            grant_type=grant.GRANT_TYPE,
            scope=access.scope,
            access_token=access,
            refresh_token=refresh,
        )
        return self.handle_response(status, body, headers)

    def create_endpoint_response(self, name: str, request: Any = None) -> HttpResponse:
        """Revocation and introspection: parse the form first, so a malformed request is an
        RFC error and not an exception outside Authlib's error handling."""
        try:
            oauth_request = self.create_oauth2_request(request)
        except OAuth2Error as error:
            return self.handle_error_response(None, error)
        return super().create_endpoint_response(name, oauth_request)

    # Authorization endpoint ---------------------------------------------------------------

    def authorization_request(self, request: HttpRequest, payload: Payload) -> OAuth2Request:
        return DjangoOAuth2Request(request, payload)

    def issuer(self, request: HttpRequest) -> str:
        """The issuer identifier: the setting, or this request's scheme and host."""
        return oauthflow_settings.ISSUER or f"{request.scheme}://{request.get_host()}"

    def with_issuer(self, response: HttpResponse, request: HttpRequest) -> HttpResponse:
        """Add ``iss`` to an authorization response redirect (RFC 9207 §2)."""
        if response.status_code == 302 and response.get("Location"):
            response["Location"] = add_params_to_uri(
                response["Location"], [("iss", self.issuer(request))]
            )
        return response


def _resources_of(request: OAuth2Request) -> list[Any]:
    """The resources (RFC 8707) this token request's tokens are for: those it names,
    within what its code or refresh token was granted for."""
    named = resources.requested(request.payload)
    # The code, the refresh token, or another grant's credential (a device code).
    credential = request.authorization_code or request.refresh_token or request.credential
    granted = credential.resource.split() if credential is not None else None
    if not named and not granted:
        return []  # no query when resources are not used
    return resources.resolve(request.client, named, granted)


@functools.lru_cache(maxsize=32)
def _takes(method: Any, name: str) -> bool:
    parameters = inspect.signature(method).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def _lifetime(self_contained: bool, targets: list[Any]) -> int:
    own = [r.access_token_lifetime for r in targets if r.access_token_lifetime]
    if own:
        return min(own)
    if self_contained:
        return int(oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME)
    return int(oauthflow_settings.ACCESS_TOKEN_LIFETIME)


#: The token request being answered, for the token generator, which Authlib calls
#: without it.
_token_request: ContextVar[Any] = ContextVar("oauthflow_token_request", default=None)

log_filter.install()

_built: tuple[int, AuthorizationServer] | None = None


def get_server() -> AuthorizationServer:
    """The server for what the registry holds now; rebuilt after a registration."""
    global _built
    generation = registry.generation
    if _built is None or _built[0] != generation:
        _built = (generation, AuthorizationServer(registry))
    return _built[1]
