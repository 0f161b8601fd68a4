"""``oauthflow_client create --allowed-origin`` and the origins in its JSON."""

from __future__ import annotations

import pytest

from oauthflow.models import Client
from tests.command_line import (  # noqa: F401 (keep_test_connection: an autouse fixture)
    keep_test_connection,
    run_command,
    run_command_json,
)

pytestmark = pytest.mark.django_db

SPA = ["create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example/cb"]


def test_create_with_allowed_origins(capsys):
    data = run_command_json(
        capsys,
        "oauthflow_client",
        *SPA,
        "--allowed-origin",
        "https://app.example",
        "--allowed-origin",
        "http://127.0.0.1:5173",
    )
    assert data["allowed_origins"] == ["https://app.example", "http://127.0.0.1:5173"]
    client = Client.objects.get()
    assert client.allowed_origins.split() == data["allowed_origins"]
    shown = run_command_json(capsys, "oauthflow_client", "show", client.client_id)
    assert shown["allowed_origins"] == data["allowed_origins"]


def test_without_the_option_the_list_is_empty(capsys):
    data = run_command_json(capsys, "oauthflow_client", *SPA)
    assert data["allowed_origins"] == []


@pytest.mark.parametrize("origin", ["https://app.example/", "null", "http://app.example"])
def test_what_is_not_an_origin_is_refused_and_nothing_written(capsys, origin):
    code, _, err = run_command(capsys, "oauthflow_client", *SPA, "--allowed-origin", origin)
    assert code == 1 and "--allowed-origin" in err and "is not an origin" in err
    assert not Client.objects.exists()


def test_a_confidential_client_gets_no_allowed_origins(capsys):
    code, _, err = run_command(
        capsys,
        "oauthflow_client",
        "create",
        "--name",
        "Web",
        "--redirect-uri",
        "https://web.example/cb",
        "--allowed-origin",
        "https://web.example",
    )
    assert code == 1 and "--allowed-origin" in err and "Only public clients" in err
    assert not Client.objects.exists()
