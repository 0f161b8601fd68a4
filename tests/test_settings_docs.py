"""docs/settings.md says what oauthflow.settings.SETTINGS and oauthflow.checks say."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import oauthflow.checks
import oauthflow.site_checks
from oauthflow.settings import DOCS_END, DOCS_START, SETTINGS, render_docs, replace_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "settings.md"


def test_docs_tables_are_up_to_date():
    text = DOCS.read_text(encoding="utf-8")
    assert replace_docs(text) == text, (
        "docs/settings.md is out of date with oauthflow.settings.SETTINGS: run `make docs`."
    )


def test_every_setting_is_in_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text


def test_every_check_id_is_in_the_docs():
    source = "".join(
        Path(module.__file__).read_text(encoding="utf-8")
        for module in (oauthflow.checks, oauthflow.site_checks)
    )
    check_ids = set(re.findall(r"oauthflow\.[EW]\d{3}", source))
    assert check_ids  # the pattern still finds them
    documented = set(re.findall(r"`(oauthflow\.[EW]\d{3})`", DOCS.read_text(encoding="utf-8")))
    assert check_ids <= documented, "add these to the System checks table in docs/settings.md"


def test_replace_docs_rewrites_only_between_the_markers():
    text = f"# Title\n\nProse.\n\n{DOCS_START}\nstale\n{DOCS_END}\n\n## After\n"
    result = replace_docs(text)
    assert result.startswith(f"# Title\n\nProse.\n\n{DOCS_START}\n\n## Scopes\n")
    assert result.endswith(f"\n\n{DOCS_END}\n\n## After\n")
    assert "stale" not in result
    assert replace_docs(result) == result


def test_replace_docs_needs_the_markers():
    with pytest.raises(ValueError, match="markers"):
        replace_docs("# Settings\n\nNo markers here.\n")


def test_the_command_prints_the_tables_without_a_django_project():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "oauthflow.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == render_docs()


def test_the_command_writes_the_file(tmp_path):
    target = tmp_path / "settings.md"
    target.write_text(f"Intro.\n\n{DOCS_START}\n{DOCS_END}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "oauthflow.settings", "--write", str(target)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    assert target.read_text(encoding="utf-8") == replace_docs(target.read_text(encoding="utf-8"))
    assert "| `ADAPTER` |" in target.read_text(encoding="utf-8")
