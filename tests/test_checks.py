"""Every system check id in oauthflow.checks, each from the configuration that raises it."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from oauthflow.adapter import DefaultAdapter
from oauthflow.checks import check_settings
from oauthflow.settings import DEFAULTS

ISSUER = "https://auth.example.com"


def ids(**oauthflow) -> list[str]:
    """The check ids for this OAUTHFLOW; ISSUER is set unless given, so that W004 (no
    issuer) only shows where a test asks for it."""
    oauthflow.setdefault("ISSUER", ISSUER)
    with override_settings(OAUTHFLOW=oauthflow):
        return [message.id for message in check_settings()]


def test_defaults_raise_nothing():
    assert ids() == []


def test_every_default_passes_its_own_type_check():
    assert ids(**{**DEFAULTS, "ISSUER": ISSUER}) == []


def test_w004_issuer_unset_without_debug():
    assert ids(ISSUER=None) == ["oauthflow.W004"]
    with override_settings(DEBUG=True):
        assert ids(ISSUER=None) == []


def test_e001_oauthflow_must_be_a_dict():
    with override_settings(OAUTHFLOW=[("SCOPES", {})]):
        assert [m.id for m in check_settings()] == ["oauthflow.E001"]


def test_e002_unknown_key_is_named():
    with override_settings(OAUTHFLOW={"ACCESS_TOKEN_LIFETIM": 60, "ISSUER": ISSUER}):
        (message,) = check_settings()
    assert message.id == "oauthflow.E002"
    assert "ACCESS_TOKEN_LIFETIM" in message.msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ACCESS_TOKEN_LIFETIME", "3600"),
        ("ACCESS_TOKEN_LIFETIME", 3600.0),
        ("ACCESS_TOKEN_LIFETIME", True),  # bool is an int, but not a lifetime
        ("SCOPES", ["read"]),
        ("DEFAULT_SCOPES", "read"),
        ("ISSUER", 42),
        ("PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS", "yes"),
        ("TOKEN_CACHE", 0),
        ("CLEARTOKENS_BATCH_SIZE", "100"),
    ],
)
def test_e003_wrong_type(key, value):
    assert ids(**{key: value}) == ["oauthflow.E003"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("AUTHORIZATION_CODE_LIFETIME", 0),
        ("AUTHORIZATION_CODE_LIFETIME", 601),  # RFC 6749 §4.1.2: at most 10 minutes
        ("ACCESS_TOKEN_LIFETIME", -1),
        ("ACCESS_TOKEN_LIFETIME", 24 * 3600 + 1),
        ("REFRESH_TOKEN_IDLE_LIFETIME", 59),
    ],
)
def test_e004_lifetime_out_of_range(key, value):
    assert ids(**{key: value}) == ["oauthflow.E004"]


def test_e004_bounds_are_inclusive():
    assert ids(AUTHORIZATION_CODE_LIFETIME=600, ACCESS_TOKEN_LIFETIME=1) == []


def test_e004_messages():
    with override_settings(OAUTHFLOW={"ISSUER": ISSUER, "ACCESS_TOKEN_LIFETIME": 0}):
        (message,) = check_settings()
    assert message.msg == (
        "OAUTHFLOW['ACCESS_TOKEN_LIFETIME'] is 0 seconds; it must be between 1 and 86400."
    )
    with override_settings(OAUTHFLOW={"ISSUER": ISSUER, "CLEARTOKENS_BATCH_SIZE": 0}):
        (message,) = check_settings()
    assert message.id == "oauthflow.E004"
    assert message.msg == "OAUTHFLOW['CLEARTOKENS_BATCH_SIZE'] must be at least 1."


def test_e004_batch_size_has_no_upper_bound():
    assert ids(CLEARTOKENS_BATCH_SIZE=1) == []
    assert ids(CLEARTOKENS_BATCH_SIZE=10**9) == []


def test_e005_idle_lifetime_longer_than_absolute():
    assert ids(REFRESH_TOKEN_IDLE_LIFETIME=7200, REFRESH_TOKEN_ABSOLUTE_LIFETIME=3600) == [
        "oauthflow.E005"
    ]


@pytest.mark.parametrize(
    "oauthflow",
    [
        {"SCOPES": {"read write": "Two words"}},
        {"SCOPES": {'say"hi': "Quote"}},
        {"SCOPES": {"read": ""}},
        {"SCOPES": {"read": None}},
        {"SCOPES": {"read": "Read"}, "DEFAULT_SCOPES": ["write"]},
    ],
)
def test_e006_bad_scopes(oauthflow):
    assert ids(**oauthflow) == ["oauthflow.E006"]


@pytest.mark.parametrize(
    "issuer",
    [
        "auth.example.com",
        "ftp://auth.example.com",
        "https://auth.example.com/?tenant=1",
        "https://auth.example.com/#top",
        "http://auth.example.com",  # DEBUG is off in the tests
    ],
)
def test_e007_bad_issuer(issuer):
    assert ids(ISSUER=issuer) == ["oauthflow.E007"]


def test_https_issuer_is_fine():
    assert ids(ISSUER="https://auth.example.com") == []


@override_settings(DEBUG=True)
def test_http_issuer_is_allowed_while_debugging():
    assert ids(ISSUER="http://127.0.0.1:8000") == []


def test_e008_token_cache_must_be_configured():
    assert ids(TOKEN_CACHE="nope") == ["oauthflow.E008"]
    assert ids(TOKEN_CACHE="tokens") == []  # a Redis alias in tests/settings.py


def test_w001_insecure_transport_without_debug():
    assert ids(ALLOW_INSECURE_TRANSPORT=True) == ["oauthflow.W001"]
    with override_settings(DEBUG=True):
        assert ids(ALLOW_INSECURE_TRANSPORT=True) == []


def test_w002_pkce_optional_for_confidential_clients():
    assert ids(PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS=False) == ["oauthflow.W002"]


class SiteAdapter(DefaultAdapter):
    """What a site names in OAUTHFLOW['ADAPTER']."""


class NotAnAdapter:
    def get_subject(self, user):
        return "same hooks, but not a DefaultAdapter"


@pytest.mark.parametrize(
    "path",
    [
        "oauthflow.adapter.NoSuchAdapter",  # the module is there, the class is not
        "no_such_module.Adapter",
        "DefaultAdapter",  # not a dotted path
    ],
)
def test_e009_adapter_cannot_be_imported(path):
    with override_settings(OAUTHFLOW={"ISSUER": ISSUER, "ADAPTER": path}):
        (message,) = check_settings()
    assert message.id == "oauthflow.E009"
    assert "cannot be imported" in message.msg
    assert repr(path) in message.msg


@pytest.mark.parametrize(
    "path",
    [
        "tests.test_checks.NotAnAdapter",
        "oauthflow.adapter.get_adapter",  # a function, not a class
        "oauthflow.settings.DEFAULTS",
    ],
)
def test_e009_adapter_is_not_a_default_adapter(path):
    with override_settings(OAUTHFLOW={"ISSUER": ISSUER, "ADAPTER": path}):
        (message,) = check_settings()
    assert message.id == "oauthflow.E009"
    assert message.msg == (
        f"OAUTHFLOW['ADAPTER'] {path!r} is not a subclass of oauthflow.adapter.DefaultAdapter."
    )


@pytest.mark.parametrize(
    "path", ["oauthflow.adapter.DefaultAdapter", "tests.test_checks.SiteAdapter"]
)
def test_e009_default_adapter_and_subclasses_pass(path):
    assert ids(ADAPTER=path) == []


def test_e009_not_raised_when_adapter_has_the_wrong_type():
    assert ids(ADAPTER=DefaultAdapter) == ["oauthflow.E003"]


def test_checks_are_registered_with_django():
    with override_settings(OAUTHFLOW={"NOPE": 1}), pytest.raises(SystemCheckError) as excinfo:
        call_command("check")
    assert "oauthflow.E002" in str(excinfo.value)
