"""Running oauthflow's management commands as a shell would, for their tests."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import execute_from_command_line


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    # run_from_argv closes every connection when it ends, which would end the test's
    # transaction; the rest of the command-line path is what these tests are about.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def run_command(capsys, name: str, *argv: str) -> tuple[int, str, str]:
    """Run ``manage.py NAME ARGV``; (exit code, stdout, stderr)."""
    try:
        execute_from_command_line(["manage.py", name, *argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_command_json(capsys, name: str, *argv: str):
    """Run it with ``--json``; it must succeed; its output, parsed."""
    code, out, err = run_command(capsys, name, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True
