"""Every import path the README and the docs show works: imports in code blocks, and each
dotted ``oauthflow.…`` name quoted in the text."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_IMPORT = re.compile(r"^\s*from (oauthflow[\w.]*) import \(?([\w, ]+)\)?", re.MULTILINE)
_PLAIN_IMPORT = re.compile(r"^\s*import (oauthflow[\w.]*)", re.MULTILINE)
_QUOTED = re.compile(r"`(oauthflow(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")
# Quoted names that are not Python: system check ids and permissions.
_NOT_PYTHON = re.compile(r"oauthflow\.([EW]\d{3}|(add|change|delete|view)_\w+)$")


def _resolve(dotted: str) -> object:
    """The module or attribute ``dotted`` names, importing as far as modules go."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


def _shown() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for module, names in _IMPORT.findall(text):
            # "from oauthflow import views as oauthflow_views" shows oauthflow.views.
            shown = (n.split(" as ")[0].strip() for n in names.split(","))
            found += [(page.name, f"{module}.{n}") for n in shown if n]
        found += [(page.name, module) for module in _PLAIN_IMPORT.findall(text)]
        found += [
            (page.name, name) for name in _QUOTED.findall(text) if not _NOT_PYTHON.match(name)
        ]
    return sorted(set(found))


def test_the_docs_show_import_paths():
    assert len(_shown()) > 20  # the patterns above still find what the pages show


@pytest.mark.parametrize(("page", "dotted"), _shown())
def test_an_import_path_the_docs_show_works(page, dotted):
    assert _resolve(dotted) is not None, f"{page}: {dotted}"
