"""DRF permissions on the scopes of oauthflow access tokens.

The names are django-oauth-toolkit's, so its users find what they know. Each class reads
the scopes from the view; a view that does not declare them is an ImproperlyConfigured
error, never an open door. They compose with DRF's ``&``, ``|`` and ``~``.

A missing scope is answered 403 with ``WWW-Authenticate: Bearer error="insufficient_scope",
scope="..."`` (RFC 6750 §3.1), where DRF alone would send a bare 403. Raising that answer
from ``has_permission`` would break composition: ``TokenHasScope | IsAdminUser`` must go
on to ask ``IsAdminUser``. So a failed scope check returns False like any permission,
notes the scopes on the request, and wraps this request's view's ``permission_denied``;
if DRF then refuses the request, for this permission or for a composition without a
message of its own, the refusal carries the challenge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ..formats.base import GrantedToken
from ..resource import errors
from ..scope import scope_to_list
from ..settings import oauthflow_settings

_NOTE = "_oauthflow_insufficient_scope"


class InsufficientScope(exceptions.PermissionDenied):
    """403 with ``WWW-Authenticate: Bearer ..., error="insufficient_scope", scope="..."``."""

    default_code = errors.INSUFFICIENT_SCOPE

    def __init__(self, scopes: Iterable[str]) -> None:
        error = errors.InsufficientScope(scopes)
        super().__init__(detail=error.description, code=error.error)
        self.auth_header = error.challenge()


class _ScopePermission(BasePermission):
    message = "This resource needs an access token with the required scopes."
    code = errors.INSUFFICIENT_SCOPE

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        """The scopes a token needs for this request."""
        raise NotImplementedError


class TokenHasScope(_ScopePermission):
    """Allows requests whose oauthflow access token has every scope in
    ``view.required_scopes`` (a list, or a space-separated string).

    Requests not authenticated by an oauthflow token are refused: 401 when nothing
    authenticated them, else 403. ``required_scopes = []`` allows any valid token;
    leaving it unset is an ImproperlyConfigured error.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        return _token_has_scopes(request, view, self.get_scopes(request, view))

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        return _declared(view, "required_scopes", self)


class TokenHasReadWriteScope(TokenHasScope):
    """Safe methods (GET, HEAD, OPTIONS) need ``OAUTHFLOW["READ_SCOPE"]``, the others
    ``OAUTHFLOW["WRITE_SCOPE"]``; plus ``view.required_scopes`` when the view sets it."""

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        if request.method in SAFE_METHODS:
            method_scope = oauthflow_settings.READ_SCOPE
        else:
            method_scope = oauthflow_settings.WRITE_SCOPE
        extra = getattr(view, "required_scopes", None)
        return [method_scope, *(_as_list(extra) if extra is not None else [])]


class TokenHasActionScope(TokenHasScope):
    """For ViewSets: the scopes of the current action in ``view.required_action_scopes``,
    e.g. ``{"list": ["read"], "retrieve": ["read"], "create": ["write"]}``.

    An action missing from the mapping is an ImproperlyConfigured error, except
    ``metadata`` (OPTIONS), which needs ``OAUTHFLOW["READ_SCOPE"]`` unless listed. A
    method the ViewSet does not route is answered 405, as the ViewSet would.
    """

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        actions = getattr(view, "required_action_scopes", None)
        if not isinstance(actions, Mapping) or not actions:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses TokenHasActionScope and must set "
                "required_action_scopes, e.g. {'list': ['read'], 'create': ['write']}."
            )
        if not hasattr(view, "action"):
            raise ImproperlyConfigured(
                f"TokenHasActionScope is for ViewSets; {type(view).__name__} has no action."
            )
        action = view.action
        if action is None:
            raise exceptions.MethodNotAllowed(request.method or "")
        if action in actions:
            return _as_list(actions[action])
        if action == "metadata":
            return [oauthflow_settings.READ_SCOPE]
        raise ImproperlyConfigured(
            f"{type(view).__name__}.required_action_scopes has no entry for the action {action!r}."
        )


class IsAuthenticatedOrTokenHasScope(_ScopePermission):
    """Allows a user authenticated otherwise (a session, say) without a token; a request
    authenticated by an oauthflow token needs the scopes in ``view.required_scopes``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        required = self.get_scopes(request, view)
        if isinstance(request.auth, GrantedToken):
            return _token_has_scopes(request, view, required)
        user = request.user
        return bool(user and user.is_authenticated)

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        return _declared(view, "required_scopes", self)


def _as_list(scopes: Iterable[str] | str) -> list[str]:
    # A bare string is a space-separated scope, not a sequence of one-letter scopes.
    return scope_to_list(scopes) if isinstance(scopes, str) else list(scopes)


def _declared(view: Any, attribute: str, permission: BasePermission) -> list[str]:
    scopes = getattr(view, attribute, None)
    if scopes is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses {type(permission).__name__} and must set "
            f"{attribute}, e.g. {attribute} = ['read'] ([] for any valid token)."
        )
    return _as_list(scopes)


def _token_has_scopes(request: Request, view: Any, required: list[str]) -> bool:
    token = request.auth
    if not isinstance(token, GrantedToken):
        return False
    if token.has_scopes(required):
        return True
    _note_insufficient_scope(request, view, required)
    return False


def _note_insufficient_scope(request: Request, view: Any, required: list[str]) -> None:
    # The first failed check names the scopes; in `A | B` it is A's.
    if getattr(request, _NOTE, None) is None:
        setattr(request, _NOTE, required)
    if "permission_denied" in vars(view):
        return  # already wrapped for this request (DRF makes a view instance per request)
    deny = view.permission_denied

    def permission_denied(request: Request, message: Any = None, code: Any = None) -> None:
        scopes = getattr(request, _NOTE, None)
        # Ours refused (our code), or a composition did, which has no message or code.
        # Another permission with its own message refused for its own reason.
        ours = code == errors.INSUFFICIENT_SCOPE or (code is None and message is None)
        if scopes is not None and ours:
            raise InsufficientScope(scopes)
        deny(request, message=message, code=code)

    view.permission_denied = permission_denied
