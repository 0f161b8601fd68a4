"""``private_key_jwt`` as an Authlib client authentication method.

Registered with ``registry.register_client_auth_method``: every endpoint that accepts a
client secret (token, revocation, introspection, PAR, device authorization) accepts it
too, for clients registered with it (``Client.token_endpoint_auth_method``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from ..models import Client
from . import assertion

logger = logging.getLogger("oauthflow.private_key_jwt")

NAME = "private_key_jwt"


@sensitive_variables("form", "value")
def authenticate(query_client: Any, request: Any) -> Client | None:
    """The client a ``private_key_jwt`` request authenticates, or None (Authlib then
    tries the endpoint's other methods, and answers ``invalid_client``)."""
    form = request.payload.data
    if "client_assertion" not in form and "client_assertion_type" not in form:
        return None
    if form.get("client_assertion_type") != assertion.JWT_BEARER:
        return _refuse("The client_assertion_type is not jwt-bearer.")
    # RFC 6749 §2.3: one authentication method per request.
    if "client_secret" in form or request.headers.get("Authorization"):
        return _refuse("The request authenticates in more than one way.")
    value = form.get("client_assertion")
    try:
        client_id = assertion.unverified_client_id(value)
        sent = form.get("client_id")
        if sent is not None and sent != client_id:
            raise assertion.AssertionRefused("The client_id is not the assertion's sub.")
        client = query_client(client_id)
        # Keys are only looked for (perhaps fetched) for a client registered to use them.
        if client is None or NAME not in client.auth_methods:
            raise assertion.AssertionRefused("No active client uses private_key_jwt with this ID.")
        assertion.verify(value, client, audiences=audiences(request))
    except assertion.AssertionRefused as refused:
        return _refuse(str(refused))
    return client


#: Endpoints whose own URL is an audience too (RFC 9126 §2: the PAR endpoint).
OWN_AUDIENCE = frozenset({"oauthflow:par"})


def audiences(request: Any) -> set[str]:
    """What an assertion's ``aud`` may be: the issuer or the token endpoint, as the
    metadata names them; at the PAR endpoint, also its URL."""
    from django.urls import resolve

    from ..server.authorization_server import get_server

    django_request = request.django_request
    issuer = get_server().issuer(django_request)
    accepted = {issuer, issuer + reverse("oauthflow:token")}
    match = getattr(django_request, "resolver_match", None) or resolve(django_request.path_info)
    if match.view_name in OWN_AUDIENCE:
        accepted.add(issuer + reverse(match.view_name))
    return accepted


def _refuse(reason: str) -> Client | None:
    # The reason helps whoever runs the client find their mistake; the client itself
    # only learns invalid_client. Never the assertion itself.
    logger.info("private_key_jwt refused: %s", reason)
    return None


def client_errors(client: Client) -> dict[str, list[str]]:
    """What a client registered for ``private_key_jwt`` needs: its keys."""
    if client.jwks.strip() or client.jwks_uri:
        return {}
    return {
        "jwks": [
            gettext(
                "A client that authenticates with private_key_jwt needs its public keys "
                "(a JWK Set) or a JWKS URI."
            )
        ]
    }
