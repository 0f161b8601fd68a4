"""manage.py oauthflow_registration_token: create (the token shown once), list (hints
only), revoke; their --json output and their errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oauthflow import tokens
from oauthflow.registration.models import InitialAccessToken
from tests.command_line import keep_test_connection, run_command, run_command_json  # noqa: F401 (an autouse fixture)
from tests.registration.conftest import NATIVE_APP, post_json

NAME = "oauthflow_registration_token"


def run(capsys, *argv: str):
    return run_command(capsys, NAME, *argv)


def run_json(capsys, *argv: str):
    return run_command_json(capsys, NAME, *argv)


def test_create_prints_the_token_once_and_stores_its_digest(db, capsys):
    code, out, err = run(capsys, "create", "--note", "for the partner")
    assert code == 0, err
    token = out.split("token: ")[1].split()[0]
    row = InitialAccessToken.objects.get()
    assert token.startswith("ofit_")
    assert row.digest == tokens.digest(token) and row.hint == tokens.hint(token)
    assert row.note == "for the partner"
    assert row.expires_at is None and row.uses_left is None
    assert row.hint in out


def test_create_with_limits_as_json(db, capsys):
    before = timezone.now()
    data = run_json(capsys, "create", "--expires-in", "3600", "--uses", "3")
    row = InitialAccessToken.objects.get()
    assert data["id"] == row.pk and data["uses_left"] == 3 and data["usable"] is True
    assert tokens.matches(data["token"], row.digest)
    assert (
        before + timedelta(seconds=3599)
        < row.expires_at
        <= timezone.now() + timedelta(seconds=3600)
    )


def test_the_token_registers_a_client(db, capsys, client, with_tokens):
    data = run_json(capsys, "create", "--uses", "1")
    assert post_json(client, NATIVE_APP, data["token"]).status_code == 201
    assert post_json(client, NATIVE_APP, data["token"]).status_code == 401


def test_list_shows_hints_never_values(db, capsys):
    created = run_json(capsys, "create", "--note", "one")
    listed = run_json(capsys, "list")
    assert [item["hint"] for item in listed] == [created["hint"]]
    assert "token" not in listed[0]
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert created["hint"] in out and created["token"] not in out and "usable" in out


def test_list_when_empty(db, capsys):
    assert run(capsys, "list")[1].strip() == "No initial access tokens."
    assert run_json(capsys, "list") == []


def test_revoke(db, capsys, client, with_tokens):
    created = run_json(capsys, "create")
    assert run_json(capsys, "revoke", str(created["id"])) == {"id": created["id"], "revoked": True}
    assert InitialAccessToken.objects.get().revoked
    assert post_json(client, NATIVE_APP, created["token"]).status_code == 401
    listed = run_json(capsys, "list")
    assert listed[0]["revoked"] is True and listed[0]["usable"] is False


@pytest.mark.parametrize(
    "argv",
    [
        ["revoke", "999"],
        ["revoke", "abc"],
        ["revoke", "-1"],
        ["create", "--uses", "0"],
        ["create", "--uses", "x"],
        ["create", "--expires-in", "0"],
        ["create", "--expires-in", str(10**12)],
        ["create", "--note", "x" * 201],
        ["create", "--note", "a\nb"],
        ["nothing"],
    ],
)
def test_errors_write_nothing(db, capsys, argv):
    code, _out, _err = run(capsys, *argv)
    assert code != 0
    assert not InitialAccessToken.objects.exists()
