"""Authenticating a request by its access token, whatever the scheme."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..settings import oauthflow_settings
from ..store.validity import Refusal
from . import schemes
from .errors import InvalidRequest, InvalidToken
from .validation import DESCRIPTIONS, validate


def authenticate(request: HttpRequest) -> Any:
    """The live access token of the request, or None when it presents none.

    Raises a TokenError (InvalidToken, InvalidRequest) for a token that must be refused.
    """
    presented = None
    for scheme in schemes.accepted():
        value = scheme.credentials(request)
        if value is None:
            continue
        if presented is not None:
            raise InvalidRequest("Send the access token in one place only (RFC 6750 section 2).")
        presented = (scheme, value)
    if presented is None:
        return None
    scheme, value = presented
    result = validate(value, bound_ok=True)  # the scheme checks the binding
    if isinstance(result, Refusal):
        raise InvalidToken(DESCRIPTIONS[result])
    reason = scheme.check(request, result)
    if reason is not None:
        raise InvalidToken(DESCRIPTIONS[reason])
    # A stored token for named resources (RFC 8707) works only at those. (A JWT's aud
    # was checked by its format; a token that names none works anywhere, as before.)
    resource = oauthflow_settings.RESOURCE
    audience = str(getattr(result, "resource", "") or "").split()
    if resource and audience and resource not in audience:
        raise InvalidToken("The access token is for another resource.")
    return result
