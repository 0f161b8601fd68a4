"""Sender-constrained grants: what the core refuses whatever extension is installed.

A code bound to a key (``dpop_jkt``), a refresh token bound to one (``jkt``) and a client
registered as ``dpop_bound_access_tokens`` may be used only by a token request that a
sender-constraining extension (``oauthflow.dpop``) has checked and bound: the extension
sets ``request.dpop_jkt``. Without it (the app not installed on this host, say), such a
request is refused rather than answered with bearer tokens.

Extensions check their proofs in the :data:`TOKEN_REQUEST_VALIDATED` grant hook, which
the server runs once a grant has validated the request and before the token transaction
opens, so what they record (a proof's use) survives a failure later in the request.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError

#: The grant hook a sender-constraining extension registers its check for.
TOKEN_REQUEST_VALIDATED = "after_token_request_validated"


def check(request: Any) -> None:
    """Refuse a request for a bound grant that no extension bound."""
    if getattr(request, "dpop_jkt", None):
        return
    code = request.authorization_code
    refresh = request.refresh_token
    if (code is not None and getattr(code, "dpop_jkt", None)) or (
        refresh is not None and getattr(refresh, "jkt", None)
    ):
        raise InvalidGrantError("This grant is bound to a DPoP key: send a proof made with it.")
    if getattr(request.client, "dpop_bound_access_tokens", False):
        raise InvalidRequestError("This client must send a DPoP proof.")
