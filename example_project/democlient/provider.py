"""Everything the demo client knows about the provider, learned over HTTP.

Endpoints come from the provider's RFC 8414 metadata; the client id and secret from the
file ``demo_setup`` writes. The OAuth requests go through Authlib's requests client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .conf import demo_settings


class DemoError(Exception):
    """A problem the demo page shows the user in plain words."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    api_url: str
    #: OpenID Connect's, when the provider offers it (oauthflow.oidc installed).
    jwks_uri: str = ""
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = ""


def discover() -> Provider:
    """Fetch the provider's metadata and check it names the provider we meant to reach.

    RFC 8414 §3.3: the ``issuer`` in the metadata must be the URL it was fetched from,
    or an attacker who can serve metadata could pose as the provider.
    """
    conf = demo_settings()
    base = conf["PROVIDER_URL"].rstrip("/")
    try:
        response = requests.get(
            base + "/.well-known/oauth-authorization-server", timeout=conf["TIMEOUT"]
        )
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DemoError(f"Could not read the provider's metadata at {base}: {exc}") from exc
    if metadata.get("issuer") != base:
        raise DemoError(
            f"The provider's metadata names the issuer {metadata.get('issuer')!r}, "
            f"not {base!r}; refusing to use it."
        )
    try:
        return Provider(
            issuer=metadata["issuer"],
            authorization_endpoint=metadata["authorization_endpoint"],
            token_endpoint=metadata["token_endpoint"],
            revocation_endpoint=metadata["revocation_endpoint"],
            api_url=base + conf["API_PATH"],
            jwks_uri=metadata.get("jwks_uri", ""),
            userinfo_endpoint=metadata.get("userinfo_endpoint", ""),
            end_session_endpoint=metadata.get("end_session_endpoint", ""),
        )
    except KeyError as exc:
        raise DemoError(f"The provider's metadata has no {exc.args[0]}.") from exc


def credentials() -> Credentials:
    path = demo_settings()["CREDENTIALS_FILE"]
    try:
        data = json.loads(Path(path).read_text()) if path else {}
    except (OSError, ValueError):
        data = {}
    if not data.get("client_id"):
        raise DemoError(
            "The demo client is not registered yet: run `make demo` "
            "(or `manage.py demo_setup`) and reload this page."
        )
    return Credentials(data["client_id"], data.get("client_secret", ""))


def oauth_session(token: dict[str, Any] | None = None) -> OAuth2Session:
    """An Authlib client session for the demo client, holding ``token`` if given."""
    conf = demo_settings()
    creds = credentials()
    return OAuth2Session(
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        # The secret goes in the Authorization header, never in a URL or form field.
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
        redirect_uri=conf["REDIRECT_URI"],
        code_challenge_method="S256",
        token=token,
        default_timeout=conf["TIMEOUT"],
    )


def mask(value: str | None) -> str:
    """The first 8 characters and an ellipsis: enough to tell tokens apart, useless to steal."""
    if not value:
        return ""
    return value[:8] + "…"


#: Token response fields that are credentials and are masked wherever they are shown.
SECRET_FIELDS = ("access_token", "refresh_token", "id_token")


def masked_token_response(token: dict[str, Any]) -> dict[str, Any]:
    """The token response as the provider sent it, secrets masked.

    ``expires_at`` is left out: Authlib adds it on our side, the provider did not send it.
    """
    return {
        key: mask(value) if key in SECRET_FIELDS else value
        for key, value in token.items()
        if key != "expires_at"
    }


def validate_id_token(
    provider: Provider, token: dict[str, Any], nonce: str, client_id: str
) -> dict[str, Any]:
    """The ID token's claims, once Authlib and joserfc have checked it as a relying party
    must (OpenID Connect Core §3.1.3.7): the signature against the provider's JWKS with
    the algorithms it advertises, then iss, aud, exp, iat, our nonce, and at_hash against
    the access token that came with it. Raises DemoError otherwise."""
    conf = demo_settings()
    try:
        jwks = requests.get(provider.jwks_uri, timeout=conf["TIMEOUT"]).json()
        decoded = jwt.decode(
            token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256", "ES256"]
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"values": [provider.issuer]}},
            {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
        )
        claims.validate(leeway=60)
    except (requests.RequestException, ValueError, JoseError, KeyError) as exc:
        raise DemoError(f"The ID token is not valid: {exc}") from exc
    return dict(claims)
