"""Settings for the test suite. ``OAUTHFLOW_TEST_DB=postgres`` runs it on PostgreSQL,
``OAUTHFLOW_TEST_DB=mariadb`` on MariaDB (or MySQL)."""

import hashlib
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# The browser tests run the example site (its URLs, templates and the demo client app),
# so its folder must be importable however the settings are loaded (pytest, django-admin).
EXAMPLE_DIR = BASE_DIR.parent / "example_project"
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.append(str(EXAMPLE_DIR))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauthflow",
    "oauthflow.oidc",
    "oauthflow.device",
    "oauthflow.dpop",
    "oauthflow.par",
    "oauthflow.registration",
    "oauthflow.private_key_jwt",
    "tests.testapp",
    # No models and no URLs of its own here: only its templates and static files are found
    # through it. The browser tests mount it with the example site's URLconf.
    "democlient",
    # django-oauth-toolkit, so the import tests (tests/dot/) start from data DOT wrote itself.
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages follow Accept-Language (as the example site's do); no header means English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The example site's CSP. It does nothing until CONTENT_SECURITY_POLICY is set, as the
    # browser tests do; it must be here from the start because the live server builds its
    # middleware chain once.
    "example.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "tests.urls"
LOGIN_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"
# Fast password hashing for test users; client secrets never use the hasher anyway.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each checkout gets its own test database name, so parallel runs do not collide; set
# OAUTHFLOW_TEST_DB_SUFFIX to run two suites at once in one checkout.
_suffix = (
    os.environ.get("OAUTHFLOW_TEST_DB_SUFFIX")
    or hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
)

if os.environ.get("OAUTHFLOW_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "oauthflow",
            "USER": os.environ.get("PGUSER", "postgres"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "TEST": {"NAME": f"test_oauthflow_{_suffix}"},
        }
    }

elif os.environ.get("OAUTHFLOW_TEST_DB") == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "oauthflow",
            "USER": os.environ.get("MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("MYSQL_PORT", "3306"),
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"NAME": f"test_oauthflow_{_suffix}", "CHARSET": "utf8mb4"},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "test.sqlite3"),
            # A file, not Django's default in-memory test database: concurrent requests
            # then lock as they do on a real site (tests/test_concurrency.py). One per
            # process, so two runs in one checkout do not share it; Django deletes it.
            "TEST": {"NAME": str(BASE_DIR / f"test_{_suffix}_{os.getpid()}.sqlite3")},
        }
    }

# A second connection to the same database, standing in for a read replica in the tests
# that route reads to it (tests/routers.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "tokens": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "KEY_PREFIX": f"oauthflow-tests-{_suffix}",
    },
}

OAUTHFLOW = {
    # The test client talks plain http to "testserver"; tests of the transport rule turn
    # this off again.
    "ALLOW_INSECURE_TRANSPORT": True,
    "SCOPES": {
        "read": "Read your data",
        "write": "Change your data",
        "profile": "See your name and email address",
    },
    # A fixed Fernet key: the signing keys the tests make are encrypted with it.
    "SIGNING_KEY_ENCRYPTION_KEYS": ["mVZ4QzcqX1x2CDk9i0ECY1BI8u3o6cDbGo2sKbYB3bQ="],
}

# W001: plain http to "testserver"; W004: the issuer follows the test server's host.
SILENCED_SYSTEM_CHECKS = ["oauthflow.W001", "oauthflow.W004"]
