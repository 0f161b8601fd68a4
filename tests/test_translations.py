"""oauthflow's pages follow the request's language, and its catalogues are complete and current.

The catalogue checks use GNU gettext's own tools (msgfmt checks that each translation keeps
its msgid's placeholders; msgcmp compares sets of msgids), as Django's makemessages does.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

import oauthflow
from oauthflow.checks import check_settings
from oauthflow.models import Client
from oauthflow.site_checks import check_issuer_host
from tests.factories import ClientFactory
from tests.oauth_helpers import AUTHORIZE, authorize_url, new_verifier

LANGUAGES = ["de", "fr", "es"]
PACKAGE = Path(oauthflow.__file__).parent
EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
CATALOGUES = [PACKAGE / "locale", EXAMPLE / "locale"]


def translated(language: str, message: str) -> str:
    with translation.override(language):
        text = translation.gettext(message)
    assert text != message, f"{message!r} has no {language} translation"
    return text


# The pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_page_is_in_the_requested_language(signed_in, client_app, language):
    response = signed_in.get(
        authorize_url(client_app, verifier=new_verifier()), HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert response["Content-Language"] == language
    for message in ("Allow", "Deny"):
        assert translated(language, message) in html
    wants = translated(
        language, '<span class="oauthflow-client">%(name)s</span> wants to use your account'
    )
    assert wants % {"name": client_app.name} in html
    assert "wants to use your account" not in html


def test_consent_page_without_accept_language_is_english(signed_in, client_app):
    html = signed_in.get(authorize_url(client_app, verifier=new_verifier())).content.decode()

    assert '<html lang="en">' in html
    assert "wants to use your account" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_page_is_in_the_requested_language(signed_in, language):
    response = signed_in.get(
        AUTHORIZE + "?response_type=code&client_id=unknown", HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert translated(language, "This request can't be completed") in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_in_page_is_in_the_requested_language(client, language):
    html = client.get("/oauth/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<html lang="{language}">' in html
    assert translated(language, "Sign in") in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_authorized_apps_page_is_in_the_requested_language(signed_in, language):
    html = signed_in.get("/oauth/authorized-apps/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<html lang="{language}">' in html
    assert translated(language, "Apps you have authorized") in html
    assert translated(language, "You have not authorized any apps.") in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_labels_and_check_messages_are_translated(settings, language):
    settings.OAUTHFLOW = {"ISSUER": "https://auth.example.com"}
    settings.ALLOWED_HOSTS = ["testserver"]

    with translation.override(language):
        label = str(Client._meta.get_field("redirect_uris").verbose_name)
        kind = str(Client._meta.get_field("client_type").verbose_name)
        [warning] = check_issuer_host()

    assert label == translated(language, "redirect URIs")
    assert kind == translated(language, "client type")
    assert warning.id == "oauthflow.W005"
    assert warning.msg == translated(
        language,
        "OAUTHFLOW['ISSUER'] names the host %(host)r, which is not in ALLOWED_HOSTS: "
        "the metadata and every authorization response send clients to another site.",
    ) % {"host": "auth.example.com"}


def test_lazy_scope_descriptions_pass_the_checks_and_show_on_the_consent_page(
    settings, signed_in, db
):
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "SCOPES": {"read": gettext_lazy("Read your things")},
        "DEFAULT_SCOPES": [],
    }
    assert [m for m in check_settings() if m.id == "oauthflow.E006"] == []
    client_app = ClientFactory(allowed_scopes="read")
    html = signed_in.get(authorize_url(client_app, verifier=new_verifier())).content.decode()
    assert "Read your things" in html


# The catalogues ----------------------------------------------------------------------------

needs_gettext = pytest.mark.skipif(
    shutil.which("msgcmp") is None and not os.environ.get("CI"),
    reason="GNU gettext (msgfmt, msgcmp) is not installed; .ci/run installs it",
)


@needs_gettext
@pytest.mark.parametrize("locale", CATALOGUES, ids=["oauthflow", "example"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_fully_translated_and_compiled(locale, language, tmp_path):
    po = locale / language / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"

    result = subprocess.run(  # noqa: S603 (fixed programs)
        ["msgfmt", "--check", "--statistics", "-o", compiled, po],  # noqa: S607
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )

    assert result.returncode == 0, result.stderr
    # "N translated messages." and nothing fuzzy or untranslated.
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    with open(compiled, "rb") as fresh, open(po.with_suffix(".mo"), "rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        ), f"{po.with_suffix('.mo')} is stale: run make messages"


@needs_gettext
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_marked_string_and_no_other(language, tmp_path):
    # makemessages over a copy of the package, as `make messages` runs it.
    copy = tmp_path / "oauthflow"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(  # noqa: S603 (our interpreter)
        [sys.executable, "-m", "django", "makemessages", "-l", language, "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = copy / "locale" / language / "LC_MESSAGES" / "django.po"
    committed = PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"

    # msgcmp DEF REF: every msgid of REF is in DEF. Both ways: nothing missing, nothing stale.
    for definitions, references in ((committed, fresh), (fresh, committed)):
        result = subprocess.run(  # noqa: S603 (fixed programs)
            ["msgcmp", "--use-untranslated", definitions, references],  # noqa: S607
            capture_output=True,
            text=True,
            env={**env, "LC_ALL": "C"},
        )
        assert result.returncode == 0, "run make messages:\n" + result.stderr
