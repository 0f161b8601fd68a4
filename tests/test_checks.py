"""Every system check id in oauthflow.checks, each from the configuration that raises it."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from oauthflow.adapter import DefaultAdapter
from oauthflow.checks import check_settings
from oauthflow.settings import DEFAULTS

ISSUER = "https://auth.example.com"
#: A Fernet key (tests/settings.py has another).
ENCRYPTION_KEY = "K8m1QcBZVjvG0pX7aQz3cN6vT2rYw5sEuH9dLfJ4kPo="


def configured(**oauthflow):
    """OAUTHFLOW with ISSUER and an encryption key unless given, so that W004 (no issuer)
    and E011 (no encryption key for OpenID Connect) only show where a test asks for them."""
    oauthflow.setdefault("ISSUER", ISSUER)
    oauthflow.setdefault("SIGNING_KEY_ENCRYPTION_KEYS", [ENCRYPTION_KEY])
    return override_settings(OAUTHFLOW=oauthflow)


def ids(**oauthflow) -> list[str]:
    """The check ids for this OAUTHFLOW (completed as ``configured`` does)."""
    with configured(**oauthflow):
        return [message.id for message in check_settings()]


def test_defaults_raise_nothing():
    assert ids() == []


def test_every_default_passes_its_own_type_check():
    assert (
        ids(**{**DEFAULTS, "ISSUER": ISSUER, "SIGNING_KEY_ENCRYPTION_KEYS": [ENCRYPTION_KEY]}) == []
    )


def test_w004_issuer_unset_without_debug():
    assert ids(ISSUER=None) == ["oauthflow.W004"]
    with override_settings(DEBUG=True):
        assert ids(ISSUER=None) == []


def test_e001_oauthflow_must_be_a_dict():
    with override_settings(OAUTHFLOW=[("SCOPES", {})]):
        assert [m.id for m in check_settings()] == ["oauthflow.E001"]


def test_e002_unknown_key_is_named():
    with configured(ACCESS_TOKEN_LIFETIM=60):
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
    with configured(ACCESS_TOKEN_LIFETIME=0):
        (message,) = check_settings()
    assert message.msg == (
        "OAUTHFLOW['ACCESS_TOKEN_LIFETIME'] is 0 seconds; it must be between 1 and 86400."
    )
    with configured(CLEARTOKENS_BATCH_SIZE=0):
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
    with configured(ADAPTER=path):
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
    with configured(ADAPTER=path):
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


# The signing keys' encryption keys (OpenID Connect) ------------------------------------


def messages(**oauthflow):
    with configured(**oauthflow):
        return check_settings()


def test_e011_no_encryption_key_for_openid_connect_without_debug():
    [message] = messages(SIGNING_KEY_ENCRYPTION_KEYS=[])
    assert message.id == "oauthflow.E011"
    assert message.level == checks.ERROR
    assert "SIGNING_KEY_ENCRYPTION_KEYS" in message.msg and "DEBUG is off" in message.msg
    assert "oauthflow_keys new-encryption-key" in message.hint


def test_w008_no_encryption_key_while_debugging():
    with override_settings(DEBUG=True):
        [message] = messages(SIGNING_KEY_ENCRYPTION_KEYS=[])
    assert message.id == "oauthflow.W008"
    assert message.level == checks.WARNING
    assert "derived from SECRET_KEY" in message.msg
    assert "new-encryption-key" in message.hint


def test_no_encryption_key_is_fine_without_openid_connect(monkeypatch):
    from django.apps import apps

    installed = apps.is_installed
    monkeypatch.setattr(
        apps, "is_installed", lambda name: name != "oauthflow.oidc" and installed(name)
    )
    assert ids(SIGNING_KEY_ENCRYPTION_KEYS=[]) == []
    with override_settings(DEBUG=True):
        assert ids(SIGNING_KEY_ENCRYPTION_KEYS=[]) == []


@pytest.mark.parametrize(
    "value",
    [
        "not a key",
        ENCRYPTION_KEY[:-2],  # too short
        ENCRYPTION_KEY.replace("K", "!"),  # not url-safe base64
        "é" * 44,
        b"\xff" * 44,
        42,
        None,
    ],
)
def test_e012_not_a_fernet_key(value):
    [message] = messages(SIGNING_KEY_ENCRYPTION_KEYS=[ENCRYPTION_KEY, value])
    assert message.id == "oauthflow.E012"
    assert message.msg == (
        "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'][1] is not a Fernet key "
        "(32 bytes in url-safe base64)."
    )
    assert "new-encryption-key" in message.hint


def test_e012_the_secret_key_is_not_an_encryption_key():
    with override_settings(SECRET_KEY=ENCRYPTION_KEY):
        [message] = messages(SIGNING_KEY_ENCRYPTION_KEYS=[ENCRYPTION_KEY])
    assert message.id == "oauthflow.E012"
    assert "[0] is SECRET_KEY" in message.msg
    # A secret is never shown in a message.
    assert ENCRYPTION_KEY not in message.msg and ENCRYPTION_KEY not in message.hint


def test_e012_nor_an_old_secret_key():
    old = "Vx3mZ9qLr2T8wYb6nC1dF4gH7jK0pS5uE2aR9iO6tQw="
    with override_settings(SECRET_KEY_FALLBACKS=[old]):
        assert ids(SIGNING_KEY_ENCRYPTION_KEYS=[ENCRYPTION_KEY, old]) == ["oauthflow.E012"]


def test_e012_names_each_bad_entry():
    found = messages(SIGNING_KEY_ENCRYPTION_KEYS=["bad", ENCRYPTION_KEY, "worse"])
    assert [m.id for m in found] == ["oauthflow.E012", "oauthflow.E012"]
    assert "[0]" in found[0].msg and "[2]" in found[1].msg


@pytest.mark.parametrize(
    "keys",
    [
        [ENCRYPTION_KEY],
        (ENCRYPTION_KEY,),
        [ENCRYPTION_KEY.encode()],  # as Fernet.generate_key() returns it
        ["Vx3mZ9qLr2T8wYb6nC1dF4gH7jK0pS5uE2aR9iO6tQw=", ENCRYPTION_KEY],
    ],
)
def test_valid_encryption_keys_pass(keys):
    assert ids(SIGNING_KEY_ENCRYPTION_KEYS=keys) == []


def test_encryption_keys_of_the_wrong_type_are_e003_only():
    assert ids(SIGNING_KEY_ENCRYPTION_KEYS=ENCRYPTION_KEY) == ["oauthflow.E003"]


def test_e011_stops_manage_py_check():
    with (
        override_settings(OAUTHFLOW={"ISSUER": ISSUER}),
        pytest.raises(SystemCheckError) as excinfo,
    ):
        call_command("check")
    assert "oauthflow.E011" in str(excinfo.value)


# RESOURCE: this API's resource identifier ---------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "https://api.example.com/",
        "https://api.example.com",
        "https://api.example.com/v1?tenant=1",
        "http://127.0.0.1:8001/",
        "https://api.example.com:8443/billing",
    ],
)
def test_a_resource_identifier_passes(resource):
    assert ids(RESOURCE=resource) == []


@pytest.mark.parametrize(
    "resource",
    [
        "api.example.com",
        "/api/",
        "https://api.example.com/#top",
        "https://api.example.com/#",
        "https://api.example.com/a b",
        "https://bücher.example/",
        "https://[::1/",  # urlsplit() raises on it
        "",
    ],
)
def test_e013_resource_is_not_an_absolute_uri_without_fragment(resource):
    with configured(RESOURCE=resource):
        [message] = check_settings()
    assert message.id == "oauthflow.E013"
    assert message.level == checks.ERROR
    assert repr(resource) in message.msg and "absolute URI without a fragment" in message.msg
    assert "oauthflow_resource list" in message.hint


def test_e013_not_raised_when_resource_has_the_wrong_type():
    assert ids(RESOURCE=["https://api.example.com/"]) == ["oauthflow.E003"]


def test_no_resource_is_fine():
    assert ids(RESOURCE=None) == []


@pytest.mark.parametrize(
    "uri", ["", "https://example.com/device", "https://example.com/", "https://ex.am:8443/d"]
)
def test_a_verification_uri_passes(uri):
    assert ids(DEVICE_VERIFICATION_URI=uri) == []


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("example.com/device", "absolute http(s) URL"),
        ("/device", "absolute http(s) URL"),
        ("ftp://example.com/device", "absolute http(s) URL"),
        ("https://example.com/device#x", "absolute http(s) URL"),
        ("https://[::1/", "absolute http(s) URL"),
        ("https://example.com/device?from=tv", "has a query"),
        ("http://example.com/device", "uses http while DEBUG is off"),
    ],
)
def test_e014_verification_uri(uri, problem):
    with configured(DEVICE_VERIFICATION_URI=uri):
        [message] = check_settings()
    assert message.id == "oauthflow.E014"
    assert message.level == checks.ERROR
    assert repr(uri) in message.msg and problem in message.msg


def test_an_http_verification_uri_is_fine_while_debugging(settings):
    settings.DEBUG = True
    assert "oauthflow.E014" not in ids(DEVICE_VERIFICATION_URI="http://127.0.0.1:8000/device")


def test_dpop_remembers_proofs_in_the_database_by_default():
    assert [i for i in ids() if i in ("oauthflow.E015", "oauthflow.W010")] == []


@pytest.mark.parametrize(
    ("caches", "expected"),
    [
        ({"dpop": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}, "oauthflow.W010"),
        ({"dpop": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}, "oauthflow.E015"),
        ({}, "oauthflow.E015"),
    ],
)
def test_dpop_replay_cache_must_be_shared_and_real(settings, caches, expected):
    settings.CACHES = {**settings.CACHES, **caches}
    assert expected in ids(DPOP_REPLAY_CACHE="dpop")


def test_an_api_without_oauthflow_needs_a_replay_cache(settings):
    apps_only = [a for a in settings.INSTALLED_APPS if not a.startswith("oauthflow")]
    with override_settings(INSTALLED_APPS=[*apps_only, "oauthflow.dpop"]):
        assert "oauthflow.E015" in ids()
        assert "oauthflow.E015" not in ids(TOKEN_CACHE="tokens")


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
    ],
)
def test_dpop_replay_cache_must_be_atomic(settings, backend):
    settings.CACHES = {**settings.CACHES, "dpop": {"BACKEND": backend, "LOCATION": "x"}}
    assert "oauthflow.W010" in ids(DPOP_REPLAY_CACHE="dpop")


def test_a_dummy_cache_subclass_is_caught(settings):
    settings.CACHES = {
        **settings.CACHES,
        "dpop": {"BACKEND": "tests.test_checks.QuietDummy"},
    }
    assert "oauthflow.E015" in ids(DPOP_REPLAY_CACHE="dpop")


from django.core.cache.backends.dummy import DummyCache  # noqa: E402


class QuietDummy(DummyCache):
    pass


def test_w011_atomic_requests_with_the_database_store(settings):
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "ATOMIC_REQUESTS": True},
    }
    assert "oauthflow.W011" in ids()
    assert "oauthflow.W011" not in ids(TOKEN_CACHE="tokens")


def test_w012_nonces_need_the_drf_exception_handler(settings):
    assert "oauthflow.W012" in ids(DPOP_NONCES=True)
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "EXCEPTION_HANDLER": "oauthflow.rest_framework.authentication.exception_handler",
    }
    assert "oauthflow.W012" not in ids(DPOP_NONCES=True)
