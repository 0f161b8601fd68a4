"""oauthflow_settings: defaults, user values, reload on override."""

import pytest
from django.test import override_settings

from oauthflow.settings import DEFAULTS, SECTIONS, SETTINGS, Setting, oauthflow_settings


def test_defaults_apply_when_nothing_is_set():
    with override_settings(OAUTHFLOW={}):
        for key, value in DEFAULTS.items():
            assert getattr(oauthflow_settings, key) == value


def test_secure_defaults():
    assert DEFAULTS["AUTHORIZATION_CODE_LIFETIME"] == 60
    assert DEFAULTS["ACCESS_TOKEN_LIFETIME"] == 3600
    assert DEFAULTS["REFRESH_TOKEN_IDLE_LIFETIME"] == 30 * 24 * 3600
    assert DEFAULTS["REFRESH_TOKEN_ABSOLUTE_LIFETIME"] == 90 * 24 * 3600
    assert DEFAULTS["PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS"] is True
    assert DEFAULTS["ALLOW_INSECURE_TRANSPORT"] is False
    assert DEFAULTS["ALLOW_FORM_BODY_TOKEN"] is False


def test_override_is_seen_and_undone():
    before = oauthflow_settings.ACCESS_TOKEN_LIFETIME
    with override_settings(OAUTHFLOW={"ACCESS_TOKEN_LIFETIME": 120}):
        assert oauthflow_settings.ACCESS_TOKEN_LIFETIME == 120
    assert oauthflow_settings.ACCESS_TOKEN_LIFETIME == before


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        oauthflow_settings.NOT_A_SETTING  # noqa: B018


def test_defaults_come_from_the_table():
    assert list(DEFAULTS) == [setting.name for setting in SETTINGS]
    assert all(DEFAULTS[setting.name] is setting.default for setting in SETTINGS)


def test_every_section_has_settings_and_they_are_listed_together():
    sections = [setting.section for setting in SETTINGS]
    # Section by section, in page order: the docs tables and DEFAULTS keep one order.
    assert sorted(sections, key=list(SECTIONS).index) == sections
    assert set(sections) == set(SECTIONS)


def test_bool_is_not_an_int():
    lifetime = next(s for s in SETTINGS if s.name == "ACCESS_TOKEN_LIFETIME")
    assert lifetime.accepts(60)
    assert not lifetime.accepts(True)
    flag = next(s for s in SETTINGS if s.name == "ALLOW_INSECURE_TRANSPORT")
    assert flag.accepts(False)
    assert not flag.accepts(0)


@pytest.mark.parametrize(
    "changes",
    [{"section": "Nowhere"}, {"default": "60"}, {"default": True}],
)
def test_a_mistake_in_the_table_fails_at_once(changes):
    fields = {"name": "X", "default": 60, "type": int, "section": "Lifetimes", "description": ""}
    with pytest.raises(ValueError, match="X"):
        Setting(**{**fields, **changes})
