"""What the authorization server can do, in one place: grants, endpoints, extensions.

Everything that depends on the set of grants derives from this registry: the Authlib
server (``oauthflow.server.get_server``), the metadata document, ``Client.clean()``,
the admin's choices, ``oauthflow_client``'s options and the ``unsupported_grant_type``
message. Adding a capability is a module of its own and a registration::

    from oauthflow.server.registry import registry

    registry.register_grant(DeviceCodeGrant)                 # a grant
    registry.register_endpoint(DeviceAuthorizationEndpoint)  # an endpoint
    registry.register_grant_extension(OpenIDCode(), ["authorization_code"])

Register from an ``AppConfig.ready()``. The built-in grants and endpoints are registered
the first time the registry is read (``oauthflow.server.builtins``, which loads Authlib
and the grants). This module itself imports nothing of Authlib or the models, so the
models can read the registry at call time (``Client.clean()``) without an import cycle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.module_loading import import_string

#: Registers the built-in grants and endpoints; called on first use of the registry.
BUILTINS = "oauthflow.server.builtins.register"


class Registry:
    """Grants by grant type, endpoints by name, extensions, client authentication methods."""

    def __init__(self, builtins: str | None = BUILTINS) -> None:
        self._builtins = builtins
        self._grants: dict[str, tuple[Any, list[Any]]] = {}
        self._grant_extensions: list[tuple[Any, frozenset[str] | None]] = []
        self._endpoints: dict[str, Any] = {}
        self._client_auth_methods: dict[str, Callable[..., Any]] = {}
        self._confidential_auth_methods: dict[str, Callable[..., dict[str, list[str]]]] = {}
        self._metadata: list[Callable[[str], dict[str, Any]]] = []
        self._authorization_checks: list[Callable[..., Any]] = []
        self._consent_details: list[Callable[..., list[str]]] = []
        self._consent_notices: list[Callable[..., str | None]] = []
        self._token_claims: list[Callable[..., dict[str, Any]]] = []
        self._request_uri_resolver: Callable[..., Any] | None = None
        self._generation = 0
        # Reentrant: registering the built-ins calls back into _load.
        self._lock = threading.RLock()
        self._loading = False

    # Registering --------------------------------------------------------------------------

    def register_grant(self, grant_class: Any, extensions: Iterable[Any] = ()) -> None:
        """Serve ``grant_class`` (an Authlib grant with ``GrantMixin``) for its GRANT_TYPE,
        with Authlib ``extensions`` applied to each instance. Replaces a grant registered
        for the same type."""
        self._load()
        self._grants[str(grant_class.GRANT_TYPE)] = (grant_class, list(extensions))
        self._changed()

    def unregister_grant(self, grant_type: str) -> None:
        self._load()
        self._grants.pop(grant_type, None)
        self._changed()

    def register_grant_extension(
        self, extension: Any, grant_types: Iterable[str] | None = None
    ) -> None:
        """Apply an Authlib grant extension (a callable taking the grant) to every grant of
        ``grant_types``, or to every grant when None: how a capability hooks into grants it
        does not own (OpenID Connect into authorization_code, say)."""
        self._load()
        types = None if grant_types is None else frozenset(grant_types)
        self._grant_extensions.append((extension, types))
        self._changed()

    def unregister_grant_extension(self, extension: Any) -> None:
        self._load()
        self._grant_extensions = [(e, t) for e, t in self._grant_extensions if e is not extension]
        self._changed()

    def register_endpoint(self, endpoint_class: Any) -> None:
        """Serve an Authlib endpoint under its ENDPOINT_NAME. A class with ``URL_NAME`` and
        ``metadata(url)`` is also described in the metadata document."""
        self._load()
        self._endpoints[endpoint_class.ENDPOINT_NAME] = endpoint_class
        self._changed()

    def unregister_endpoint(self, name: str) -> None:
        self._load()
        self._endpoints.pop(name, None)
        self._changed()

    def register_client_auth_method(
        self,
        name: str,
        authenticate: Callable[..., Any],
        *,
        client_errors: Callable[..., dict[str, list[str]]] | None = None,
    ) -> None:
        """A client authentication method for Authlib (``authenticate(query_client,
        request)``). With ``client_errors`` it is a method of confidential clients that a
        client registers (``token_endpoint_auth_method``): every endpoint that accepts a
        client secret accepts it too, the metadata lists it, and ``client_errors(client)``
        says what such a client's registration lacks, by model field."""
        self._load()
        self._client_auth_methods[name] = authenticate
        if client_errors is not None:
            self._confidential_auth_methods[name] = client_errors
        self._changed()

    def unregister_client_auth_method(self, name: str) -> None:
        self._load()
        self._client_auth_methods.pop(name, None)
        self._confidential_auth_methods.pop(name, None)
        self._changed()

    def register_metadata(self, contribute: Callable[[str], dict[str, Any]]) -> None:
        """Entries for the metadata document (RFC 8414, OpenID Connect Discovery):
        ``contribute(issuer)`` returns them; for what is not a grant or an endpoint."""
        self._load()
        self._metadata.append(contribute)
        self._changed()

    def register_authorization_check(self, check: Callable[..., Any]) -> None:
        """A check the authorization endpoint runs once the client, the redirect URI and
        the signed-in user are known: ``check(request, grant, user)``. It raises an
        Authlib ``OAuth2Error`` (sent to the client) or ``oauthflow.prompt.SignInAgain``
        (the user must sign in again), or returns to let the request go on."""
        self._load()
        self._authorization_checks.append(check)
        self._changed()

    def register_consent_details(self, details: Callable[..., list[str]]) -> None:
        """Lines for the consent page beyond the scopes: ``details(grant)`` returns them
        (what identity data the client will see, say)."""
        self._load()
        self._consent_details.append(details)
        self._changed()

    def register_consent_notice(self, notice: Callable[..., str | None]) -> None:
        """A warning for the consent page about the client itself: ``notice(grant)``
        returns a sentence, or None (a self-registered client: nobody checked who runs
        it). Shown above the scopes, as a note the user cannot miss."""
        self._load()
        self._consent_notices.append(notice)
        self._changed()

    def register_token_claims(self, contribute: Callable[..., dict[str, Any]]) -> None:
        """Claims for self-contained access tokens (JWT): ``contribute(request)`` returns
        them for the token request being answered (OpenID Connect adds auth_time, acr)."""
        self._load()
        self._token_claims.append(contribute)
        self._changed()

    def register_request_uri_resolver(self, resolve: Callable[..., Any]) -> None:
        """What ``request_uri`` at the authorization endpoint names (pushed requests,
        RFC 9126): ``resolve(request, pairs)`` returns the authorization request's
        parameters, or raises an Authlib ``OAuth2Error`` (shown on an error page)."""
        self._load()
        self._request_uri_resolver = resolve
        self._changed()

    # Reading ------------------------------------------------------------------------------

    def request_uri_resolver(self) -> Callable[..., Any] | None:
        self._load()
        return self._request_uri_resolver

    def token_claims(self) -> list[Callable[..., dict[str, Any]]]:
        self._load()
        return list(self._token_claims)

    def metadata_contributors(self) -> list[Callable[[str], dict[str, Any]]]:
        self._load()
        return list(self._metadata)

    def authorization_checks(self) -> list[Callable[..., Any]]:
        self._load()
        return list(self._authorization_checks)

    def consent_details(self) -> list[Callable[..., list[str]]]:
        self._load()
        return list(self._consent_details)

    def consent_notices(self) -> list[Callable[..., str | None]]:
        self._load()
        return list(self._consent_notices)

    @property
    def generation(self) -> int:
        """Changes with every registration; the server is rebuilt when it does."""
        self._load()
        return self._generation

    def grant_types(self) -> list[str]:
        """The grant types served, in registration order."""
        self._load()
        return list(self._grants)

    def grant_classes(self) -> dict[str, Any]:
        self._load()
        return {name: grant for name, (grant, _) in self._grants.items()}

    def grant_class(self, grant_type: str) -> Any | None:
        self._load()
        registered = self._grants.get(grant_type)
        return registered[0] if registered else None

    def grants(self) -> list[tuple[Any, list[Any]]]:
        """(grant class, extensions) pairs: the grant's own, then those for every grant."""
        self._load()
        result = []
        for name, (grant, own) in self._grants.items():
            shared = [e for e, types in self._grant_extensions if types is None or name in types]
            result.append((grant, [*own, *shared]))
        return result

    def endpoints(self) -> list[Any]:
        self._load()
        return list(self._endpoints.values())

    def client_auth_methods(self) -> dict[str, Callable[..., Any]]:
        self._load()
        return dict(self._client_auth_methods)

    def confidential_auth_methods(self) -> dict[str, Callable[..., dict[str, list[str]]]]:
        """The registered methods of confidential clients beyond a secret (by name, each
        with its ``client_errors``)."""
        self._load()
        return dict(self._confidential_auth_methods)

    def endpoint_auth_methods(self, methods: Iterable[str]) -> list[str]:
        """What an endpoint (or a grant) that accepts ``methods`` accepts: with a client
        secret, also the registered methods of confidential clients."""
        accepted = list(methods)
        if "client_secret_basic" in accepted:
            accepted += [m for m in self.confidential_auth_methods() if m not in accepted]
        return accepted

    def token_endpoint_auth_methods(self) -> list[str]:
        """Every client authentication method some grant accepts, in a stable order."""
        methods: dict[str, None] = {}
        for grant in self.grant_classes().values():
            methods.update(
                dict.fromkeys(self.endpoint_auth_methods(grant.TOKEN_ENDPOINT_AUTH_METHODS))
            )
        return list(methods)

    # Internals ----------------------------------------------------------------------------

    def _load(self) -> None:
        # Another thread must not read a half-filled registry (it would serve no grant),
        # so readers wait while the built-ins register; afterwards this is one attribute
        # test. The thread that registers sees its own partial state through the RLock.
        if self._builtins is None:
            return
        with self._lock:
            if self._builtins is None or self._loading:
                return
            self._loading = True
            try:
                import_string(self._builtins)(self)
                self._builtins = None
            finally:
                self._loading = False

    def _changed(self) -> None:
        self._generation += 1


registry = Registry()
