"""oauthflow_settings: defaults, user values, reload on override."""

import pytest
from django.test import override_settings

from oauthflow.settings import DEFAULTS, oauthflow_settings


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
