"""What the user-facing pages share: the error page and their protective headers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def protect(response: HttpResponse) -> HttpResponse:
    """Headers for pages of the authorization server: not framed (RFC 9700 §4.16).

    Referrer-Policy is ``same-origin``, not ``no-referrer``: with ``no-referrer`` browsers
    send ``Origin: null`` on the page's own form posts, which Django's CSRF check refuses.
    """
    response.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response["Referrer-Policy"] = "same-origin"
    return response


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
