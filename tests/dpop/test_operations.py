"""DPoP in the admin, the management commands and clean-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauthflow.dpop.models import UsedProof
from oauthflow.models import Client
from oauthflow.store.cleanup import clear_tokens
from tests import factories
from tests.command_line import keep_test_connection, run_command_json  # noqa: F401 (autouse)
from tests.oauth_helpers import token_request

pytestmark = pytest.mark.django_db


def test_oauthflow_client_creates_a_dpop_only_client(capsys):
    data = run_command_json(
        capsys,
        "oauthflow_client",
        "create",
        "--name",
        "SPA",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--dpop",
    )

    assert data["dpop_bound_access_tokens"] is True
    assert Client.objects.get(client_id=data["client_id"]).dpop_bound_access_tokens


def test_the_admin_shows_and_sets_dpop_only(admin_client):
    app = factories.ClientFactory()
    url = reverse("admin:oauthflow_client_change", args=[app.pk])

    page = admin_client.get(url).content.decode()

    assert 'name="dpop_bound_access_tokens"' in page
    assert "Hardening" in page


def test_the_admin_shows_what_a_token_is_bound_to(admin_client, client, machine, key):
    token_request(
        client,
        machine,
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_DPOP=key.proof(),
    )
    from oauthflow.models import AccessToken

    row = AccessToken.objects.get()
    page = admin_client.get(reverse("admin:oauthflow_accesstoken_change", args=[row.pk]))

    assert key.jkt in page.content.decode()


def test_proofs_are_remembered_in_the_database_and_cleared_when_old(client, machine, key):
    token_request(
        client,
        machine,
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_DPOP=key.proof(),
    )
    assert UsedProof.objects.count() == 1
    assert clear_tokens()["used_dpop_proofs"] == 0

    UsedProof.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert clear_tokens()["used_dpop_proofs"] == 1
    assert not UsedProof.objects.exists()


def test_a_proof_costs_one_insert_without_a_cache(client, machine, key, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as bound:
        token_request(
            client,
            machine,
            {"grant_type": "client_credentials", "scope": "read"},
            HTTP_DPOP=key.proof(),
        )
    with CaptureQueriesContext(connection) as plain:
        token_request(client, machine, {"grant_type": "client_credentials", "scope": "read"})

    def statements(ctx):  # the test's transaction adds savepoints a site does not have
        return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]

    inserts = [q for q in statements(bound) if "oauthflow_dpop_usedproof" in q]
    assert len(inserts) == 1 and inserts[0].startswith("INSERT")
    assert len(statements(bound)) == len(statements(plain)) + 1
