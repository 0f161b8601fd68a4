"""What OpenID Connect adds to the metadata document (Discovery 1.0 §3).

One builder (``oauthflow.server.metadata``) serves both
``/.well-known/openid-configuration`` and ``/.well-known/oauth-authorization-server``;
this is OpenID Connect's part of it. Each value is served and tested; what is not built
is not listed (request objects: ``request_parameter_supported`` and
``request_uri_parameter_supported`` are false, the latter because Discovery's default is
true).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from ..keys.store import ALGORITHMS
from .claims import STANDARD_CLAIMS

PROMPT_VALUES = ["none", "login", "consent", "select_account"]


def metadata(issuer: str) -> dict[str, Any]:
    return {
        "userinfo_endpoint": issuer + reverse("oauthflow:userinfo"),
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "at_hash",
            *STANDARD_CLAIMS,
        ],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": PROMPT_VALUES,
        "end_session_endpoint": issuer + reverse("oauthflow:end-session"),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
