"""Client authentication methods beyond Authlib's defaults."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.authenticate_client import authenticate_none as _authenticate_none

from ..models import Client


def authenticate_none(query_client: Any, request: OAuth2Request) -> Client | None:
    """Public-client authentication (``none``), but not for a request that tried HTTP
    Basic: a wrong secret must be ``invalid_client``, not a quiet fallback to no secret."""
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        return None
    return _authenticate_none(query_client, request)
