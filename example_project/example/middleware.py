"""A strict Content-Security-Policy for every page of the example site.

It proves the pages need no inline script or style and load nothing from elsewhere:
in the browser tests, anything the policy blocks is a console error, which fails them.
The policy is ``settings.CONTENT_SECURITY_POLICY`` (directive → value), read on each
request so tests can set it; without it, the middleware does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Django's admin sets a few style attributes; it is not ours to rewrite, so only its pages
# may use inline styles (never inline scripts).
ADMIN_PREFIX = "/admin/"
ADMIN_EXTRA = {"style-src": "'self' 'unsafe-inline'"}


def merge(existing: str, policy: dict[str, str]) -> str:
    """Add ``policy``'s directives to a policy a view already set, keeping the view's values."""
    directives: dict[str, str] = {}
    for part in existing.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value
    for name, value in policy.items():
        directives.setdefault(name, value)
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if not policy:
            return response
        if request.path.startswith(ADMIN_PREFIX):
            policy = {**policy, **ADMIN_EXTRA}
        # oauthflow's own pages already send "frame-ancestors 'none'": merge, don't clobber.
        response["Content-Security-Policy"] = merge(
            response.get("Content-Security-Policy", ""), policy
        )
        return response
