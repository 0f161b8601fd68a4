"""Queries per token request, per grant: a bounded, small number that must not creep up.

Counts exclude SAVEPOINT/RELEASE statements, which only exist because the test itself
runs inside a transaction; in production the endpoint's transaction is the outermost one.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

#: The budget per grant. Raising one of these needs a reason in the changelog.
BUDGET = {"authorization_code": 5, "refresh_token": 5, "client_credentials": 2}


def real_queries(context: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_authorization_code_grant_queries(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    with CaptureQueriesContext(connection) as context:
        assert exchange(signed_in, client_app, code, verifier).status_code == 200
    assert len(real_queries(context)) == BUDGET["authorization_code"], real_queries(context)


def test_refresh_token_grant_queries(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    body = exchange(signed_in, client_app, code, verifier).json()
    with CaptureQueriesContext(connection) as context:
        response = token_request(
            signed_in,
            client_app,
            {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        )
        assert response.status_code == 200
    assert len(real_queries(context)) == BUDGET["refresh_token"], real_queries(context)


def test_client_credentials_grant_queries(client, db):
    client_app = factories.ClientFactory(
        grant_types="client_credentials", redirect_uris="", default_scopes="read"
    )
    with CaptureQueriesContext(connection) as context:
        response = token_request(client, client_app, {"grant_type": "client_credentials"})
    assert response.status_code == 200, response.content
    assert len(real_queries(context)) == BUDGET["client_credentials"], real_queries(context)


def test_public_client_code_exchange_queries(signed_in, public_client):
    verifier = new_verifier()
    code = get_code(signed_in, public_client, verifier=verifier)
    with CaptureQueriesContext(connection) as context:
        assert exchange(signed_in, public_client, code, verifier).status_code == 200
    assert len(real_queries(context)) == BUDGET["authorization_code"], real_queries(context)
