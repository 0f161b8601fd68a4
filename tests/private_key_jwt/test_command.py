"""oauthflow_client create for a client that authenticates with keys."""

from __future__ import annotations

import json

from oauthflow.models import Client
from tests.command_line import keep_test_connection, run_command, run_command_json  # noqa: F401

from .helpers import ClientKey

#: A batch job's client that authenticates with keys, its keys still to be named.
CREATE_WITH_KEYS = (
    "oauthflow_client",
    "create",
    "--name",
    "Batch job",
    "--grant-type",
    "client_credentials",
    "--auth-method",
    "private_key_jwt",
)


def test_create_a_key_client_from_a_jwks_file(db, capsys, tmp_path):
    key = ClientKey()
    path = tmp_path / "jwks.json"
    path.write_text(key.jwks())
    data = run_command_json(capsys, *CREATE_WITH_KEYS, "--jwks", str(path))
    client = Client.objects.get(client_id=data["client_id"])
    assert data["client_secret"] is None and not client.has_secret
    assert data["token_endpoint_auth_method"] == "private_key_jwt"
    assert data["jwks"] == json.loads(key.jwks())
    assert client.auth_methods == ("private_key_jwt",)


def test_create_a_key_client_with_a_jwks_uri(db, capsys):
    data = run_command_json(
        capsys, *CREATE_WITH_KEYS, "--jwks-uri", "https://job.example.com/jwks.json"
    )
    assert data["jwks_uri"] == "https://job.example.com/jwks.json" and data["jwks"] is None


def test_what_is_wrong_is_said_by_option(db, capsys, tmp_path):
    code, _, err = run_command(
        capsys, "oauthflow_client", "create", "--name", "X", "--auth-method", "private_key_jwt"
    )
    assert code == 1 and "--jwks" in err
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [ClientKey().key.as_dict(private=True)]}))
    code, _, err = run_command(
        capsys,
        "oauthflow_client",
        "create",
        "--name",
        "X",
        "--auth-method",
        "private_key_jwt",
        "--jwks",
        str(private),
    )
    assert code == 1 and "private" in err
    code, _, err = run_command(
        capsys, "oauthflow_client", "create", "--name", "X", "--jwks", str(tmp_path / "missing")
    )
    assert code == 1 and "cannot read" in err
    assert not Client.objects.exists()


def test_a_key_client_has_no_secret_to_rotate(db, capsys):
    from .helpers import key_client

    client = key_client(ClientKey())
    code, _, err = run_command(capsys, "oauthflow_client", "rotate-secret", client.client_id)
    assert code == 1 and "no secret to rotate" in err


def test_show_prints_the_keys_as_json(db, capsys):
    from .helpers import key_client

    key = ClientKey()
    client = key_client(key)
    code, out, _ = run_command(capsys, "oauthflow_client", "show", client.client_id)
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith("jwks:"))
    assert json.loads(line.split(":", 1)[1]) == json.loads(key.jwks())
