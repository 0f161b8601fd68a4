"""The layers lean one way (docs/architecture.md): the resource side and the store never
reach up into the authorization server, so an API that only checks tokens imports none
of it."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "oauthflow"

#: What each lower layer must not import at module level.
SERVER = ("oauthflow.server", "oauthflow.views", "oauthflow.admin", "oauthflow.management")
RULES = {
    "store": (*SERVER, "oauthflow.resource", "oauthflow.adapter", "authlib"),
    "formats": (*SERVER, "oauthflow.resource", "oauthflow.store", "authlib"),
    "resource": (*SERVER, "oauthflow.adapter", "authlib"),
    "rest_framework": (*SERVER, "oauthflow.adapter", "authlib"),
    "models.py": (*SERVER, "oauthflow.resource", "oauthflow.adapter", "authlib"),
    "tokens.py": (*SERVER, "oauthflow.resource", "oauthflow.store", "authlib"),
    # The DOT import is storage work: no protocol, no request handling.
    "dot": (*SERVER, "oauthflow.resource", "authlib"),
}


def module_level_imports(path: Path) -> set[str]:
    """Absolute names of what ``path`` imports outside functions."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("part", sorted(RULES))
def test_lower_layers_do_not_import_upper_ones(part):
    paths = [PACKAGE / part] if part.endswith(".py") else sorted((PACKAGE / part).rglob("*.py"))
    for path in paths:
        for name in module_level_imports(path):
            for forbidden in RULES[part]:
                assert not (name == forbidden or name.startswith(forbidden + ".")), (
                    f"{path.relative_to(PACKAGE.parent)} imports {name}"
                )


def test_protecting_an_api_loads_nothing_of_the_authorization_server():
    script = textwrap.dedent(
        """
        import sys
        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "oauthflow"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        )
        django.setup()
        import oauthflow.decorators
        import oauthflow.rest_framework
        import oauthflow.resource.authentication

        loaded = [m for m in sys.modules if m == "authlib" or m.startswith(
            ("authlib.", "oauthflow.server.authorization_server", "oauthflow.server.grants"))]
        print(loaded)
        """
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_only_the_import_command_uses_the_dot_import():
    """oauthflow.dot is a capability of its own: nothing at request time loads it."""
    users = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "dot" not in path.relative_to(PACKAGE).parts[:1]
        and any(
            n == "oauthflow.dot" or n.startswith("oauthflow.dot.")
            for n in module_level_imports(path)
        )
    )
    assert users == ["oauthflow/management/commands/oauthflow_import_dot.py"]
