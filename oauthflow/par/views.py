"""The pushed authorization request endpoint's view (RFC 9126 §2): POST, https, JSON."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .. import cors
from ..server.authorization_server import get_server
from ..views.token import _client_endpoint


@cors.client_endpoint
@_client_endpoint
def pushed_authorization(request: HttpRequest) -> HttpResponse:
    """The pushed authorization request endpoint."""
    return get_server().create_endpoint_response("pushed_authorization", request)
