"""Protecting plain Django views (no DRF) with oauthflow access tokens.

``require_oauth`` for function views, ``ProtectedResourceMixin`` for class-based views.
Both answer as RFC 6750 §3 says, with a JSON body ``{"error", "error_description"}``:

* no bearer token: 401, ``WWW-Authenticate: Bearer realm="..."``;
* a token refused (unknown, expired, revoked, malformed, inactive client or user):
  401, ``error="invalid_token"``;
* a token sent both in the header and in the body, or twice: 400, ``error="invalid_request"``;
* a valid token without the required scopes: 403, ``error="insufficient_scope"`` and
  ``scope="..."``.

On success the view sees ``request.oauth_token`` (the token) and ``request.user``
set to the token's user, or ``AnonymousUser`` for a client-credentials token. The
session's user is replaced so that a browser signed in as one person, presenting
another person's token, cannot act as the first with the second's grant.

The protected views are exempt from CSRF checks: every request must carry a bearer
token, which a browser never attaches to a cross-site request by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse

from .. import unavailable
from ..scope import scope_to_list
from .authentication import authenticate
from .errors import InsufficientScope, MissingToken, TokenError

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def require_oauth(*, scopes: Iterable[str] | str) -> Callable[[ViewFunc], ViewFunc]:
    """Let a view run only for a valid access token holding every scope in ``scopes``.

    ``scopes=[]`` accepts any valid token. Works on sync and async function views::

        @require_oauth(scopes=["read"])
        def notes(request): ...
    """
    required = _scope_list(scopes, "require_oauth(scopes=...)")

    def decorator(view_func: ViewFunc) -> ViewFunc:
        if iscoroutinefunction(view_func):

            @wraps(view_func)
            async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                denial = await sync_to_async(_protect)(request, required)
                if denial is not None:
                    return denial
                return await view_func(request, *args, **kwargs)

            view: Any = async_view
        else:

            @wraps(view_func)
            def view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                denial = _protect(request, required)
                if denial is not None:
                    return denial
                return view_func(request, *args, **kwargs)

        # The attribute rather than csrf_exempt(), which wraps async views in a sync
        # function on older Django versions.
        view.csrf_exempt = True
        return view

    return decorator


class ProtectedResourceMixin:
    """For class-based views: every method needs a valid token with ``required_scopes``.

    ``required_scopes`` must be set (a list, or a space-separated string); ``[]`` accepts
    any valid token. Leaving it unset is an ImproperlyConfigured error, not an open door.
    Put the mixin before the view class::

        class NoteList(ProtectedResourceMixin, View):
            required_scopes = ["read"]
    """

    required_scopes: Iterable[str] | str | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., Any]:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        view.csrf_exempt = True
        return view

    def get_required_scopes(self) -> list[str]:
        return _scope_list(self.required_scopes, f"{type(self).__name__}.required_scopes")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        required = self.get_required_scopes()
        if getattr(self, "view_is_async", False):
            return self._async_dispatch(required, request, *args, **kwargs)
        denial = _protect(request, required)
        if denial is not None:
            return denial
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _async_dispatch(
        self, required: list[str], request: HttpRequest, *args: Any, **kwargs: Any
    ) -> Any:
        denial = await sync_to_async(_protect)(request, required)
        if denial is not None:
            return denial
        return await super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def _scope_list(scopes: Iterable[str] | str | None, where: str) -> list[str]:
    if scopes is None:
        raise ImproperlyConfigured(
            f"{where} must list the scopes a token needs, e.g. ['read'] ([] for any token)."
        )
    return scope_to_list(scopes) if isinstance(scopes, str) else list(scopes)


def _protect(request: HttpRequest, required: list[str]) -> HttpResponse | None:
    """None when the request may proceed (and its user set), else the error response."""
    try:
        token = authenticate(request)
        if token is None:
            raise MissingToken()
        if not token.has_scopes(required):
            raise InsufficientScope(required)
    except TokenError as error:
        response = JsonResponse(error.as_dict(), status=error.status_code)
        response["WWW-Authenticate"] = error.challenge()
        for name, value in error.headers.items():
            response[name] = value
        return response
    except unavailable.DATABASE_UNAVAILABLE as error:
        unavailable.log(error)
        return unavailable.json_response()
    user = token.user if token.user is not None else AnonymousUser()

    async def auser() -> Any:
        return user

    # Attributes Django's HttpRequest does not declare; set as AuthenticationMiddleware does.
    setattr(request, "oauth_token", token)  # noqa: B010
    setattr(request, "user", user)  # noqa: B010
    setattr(request, "auser", auser)  # noqa: B010
    return None
