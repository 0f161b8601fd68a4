"""What the user-facing pages share: the error page and their protective headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import unavailable

R = TypeVar("R", bound=HttpResponseBase)


def protect(response: R) -> R:
    """Headers for pages of the authorization server: not framed (RFC 9700 §4.16).

    Referrer-Policy is ``same-origin``, not ``no-referrer``: with ``no-referrer`` browsers
    send ``Origin: null`` on the page's own form posts, which Django's CSRF check refuses.
    """
    response.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response["Referrer-Policy"] = "same-origin"
    return response


def unavailable_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A user-facing view that answers 503 with an error page while the database is
    unreachable (``oauthflow.unavailable``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except unavailable.DATABASE_UNAVAILABLE as error:
            unavailable.log(error)
            response = error_page(
                request,
                "temporarily_unavailable",
                _("The service is temporarily unavailable; try again shortly."),
                status=503,
            )
            response["Retry-After"] = str(unavailable.RETRY_AFTER)
            return response

    return wrapped


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
    return protect(response)


def refused(request: HttpRequest) -> HttpResponse | None:
    """The error page for a page request that may not go on: a method other than GET,
    HEAD or POST (405), or plain http from elsewhere; None when it may."""
    from ..server.request import check_transport

    if request.method not in ("GET", "HEAD", "POST"):
        response = error_page(request, "invalid_request", _("Use GET or POST."), status=405)
        response["Allow"] = "GET, HEAD, POST"
        return response
    if not check_transport(request):
        return error_page(request, "invalid_request", _("OAuth requests must use https."))
    return None
