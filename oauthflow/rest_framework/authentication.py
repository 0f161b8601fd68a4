"""DRF authentication with oauthflow access tokens (RFC 6750)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from .. import unavailable
from ..resource import errors
from ..resource.authentication import authenticate


class TokenAuthenticationFailed(exceptions.APIException):
    """An RFC 6750 error answered with its own status and ``WWW-Authenticate`` challenges.

    Not an ``AuthenticationFailed``: DRF replaces that exception's challenge with the first
    authentication class's, and turns it into a 403 when that class has none (say,
    ``SessionAuthentication`` listed first). This one keeps its status and challenge
    whatever the order of the classes.
    """

    status_code = 401
    default_code = errors.INVALID_TOKEN

    def __init__(self, error: errors.TokenError) -> None:
        super().__init__(detail=error.description, code=error.error)
        self.status_code = error.status_code
        self.auth_header = error.challenge()
        #: More response headers (DPoP-Nonce): DRF's exception handler does not send
        #: them, ``oauthflow.rest_framework.exception_handler`` does.
        self.headers = dict(error.headers)


#: Its name in earlier releases.
BearerTokenError = TokenAuthenticationFailed


class DatabaseUnavailable(exceptions.APIException):
    """503 with ``Retry-After`` while the database cannot be reached (DRF sends
    ``Retry-After`` for an exception with ``wait``)."""

    status_code = 503
    default_detail = unavailable.DESCRIPTION
    default_code = "temporarily_unavailable"
    wait = unavailable.RETRY_AFTER


class OAuth2Authentication(BaseAuthentication):
    """Authenticates requests that carry an oauthflow access token.

    * Reads ``Authorization: Bearer <token>``; a form-body ``access_token`` only when
      ``OAUTHFLOW["ALLOW_FORM_BODY_TOKEN"]`` is on; never the query string.
    * No token: returns None, so the next authentication class runs. List this class
      first, and a request that no class authenticates gets 401 with
      ``WWW-Authenticate: Bearer realm="..."``.
    * A token that is malformed, unknown, expired or revoked, or whose client or user is
      inactive: 401 with ``error="invalid_token"``. The same token in the header and the
      body: 400 with ``error="invalid_request"``.
    * Otherwise returns ``(user, token)``. ``request.auth`` is the token (the AccessToken
      row for opaque tokens): ``scopes``, ``client``, ``user``, ``expires_at``.
      ``request.user`` is the token's user, or ``AnonymousUser`` for a client-credentials
      token (``token.is_client_credentials``).

    One database query per request (none on a token-cache hit), the user included.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            token = authenticate(request._request)
        except errors.TokenError as error:
            raise TokenAuthenticationFailed(error) from None
        except unavailable.DATABASE_UNAVAILABLE as error:
            unavailable.log(error)
            raise DatabaseUnavailable() from None
        if token is None:
            return None
        return (token.user if token.user is not None else AnonymousUser(), token)

    def authenticate_header(self, request: Request) -> str:
        return errors.challenge()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's exception handler, and the headers an oauthflow error adds (``DPoP-Nonce``,
    for ``DPOP_NONCES`` at an API). Set ``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` to
    ``"oauthflow.rest_framework.authentication.exception_handler"`` to use it."""
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, TokenAuthenticationFailed):
        for name, value in exc.headers.items():
            response[name] = value
    return response
