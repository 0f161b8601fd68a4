"""Settings of the example site: an OAuth provider (oauthflow), a DRF API it protects,
and a demo client app (democlient) that plays a third-party app at /demo/.

SQLite by default; set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/oauthflow_example)
to use PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent

# A demo site: the key is only for local runs. Set DJANGO_SECRET_KEY anywhere else.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-insecure-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

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
    "example",
    # The pretend third-party app at /demo/; it uses the provider only over HTTP.
    "democlient",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the stylesheets with DEBUG off too (DJANGO_DEBUG=0), where runserver does not.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages in the browser's language (Accept-Language), where oauthflow has it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "example.middleware.ContentSecurityPolicyMiddleware",
]

# Every page works under this policy: no inline script or style, nothing from another
# site (example/middleware.py sends it). No form-action directive on purpose: browsers
# apply it to the redirects that follow a form post, and the consent form's answer
# redirects to the client's site, wherever that is.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests wait for each other's writes (up to 20 s) instead of failing
    # with "database is locked": every transaction takes the write lock when it begins.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    if django.VERSION >= (5, 1):
        DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# oauthflow's pages come in these languages; the example's own sign-in note too.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español"), ("fr", "Français")]
LANGUAGE_CODE = "en"
LOCALE_PATHS = [BASE_DIR / "locale"]

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
# `manage.py collectstatic` gathers the files here for production; the example serves
# them straight from the apps instead, so it needs no collectstatic.
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

# oauthflow with its secure defaults; only the consent page's words for each scope are set.
OAUTHFLOW = {
    "SCOPES": {
        "read": "Read your profile and notes",
        "write": "Create and change your notes",
    },
    # Encrypts the OpenID Connect signing keys in the database. Like SECRET_KEY, this one
    # is for local runs only: set OAUTHFLOW_KEY_ENCRYPTION_KEY anywhere else
    # (`manage.py oauthflow_keys new-encryption-key` prints a fresh one).
    "SIGNING_KEY_ENCRYPTION_KEYS": [
        os.environ.get(
            "OAUTHFLOW_KEY_ENCRYPTION_KEY", "ZXhhbXBsZS1vbmx5LWluc2VjdXJlLWtleS0wMDAwMDA="
        )
    ],
}

# The demo client finds the provider over HTTP, as a third-party app would. runserver
# is threaded, so the demo's requests to its own server are answered while it waits.
# `make demo PORT=8500`: the demo client and its registration follow the port.
DEMO_PORT = os.environ.get("DEMO_PORT", "8000")
DEMO_CLIENT = {
    "PROVIDER_URL": os.environ.get("DEMO_PROVIDER_URL", f"http://127.0.0.1:{DEMO_PORT}"),
    "REDIRECT_URI": f"http://127.0.0.1:{DEMO_PORT}/demo/callback",
    "SIGNED_OUT_URI": f"http://127.0.0.1:{DEMO_PORT}/demo/signed-out",
    # Written by `manage.py demo_setup` (git-ignored, mode 0600).
    "CREDENTIALS_FILE": BASE_DIR / ".demo-client.json",
    # Signs the user in with OpenID Connect, and may read the API.
    "SCOPE": "openid profile email read",
}
