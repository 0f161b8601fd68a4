"""The relying party's settings; the test passes the provider's details in the environment.

``RP_DATABASE``: its own SQLite file. ``RP_OIDC_*``: the endpoints of the provider's
``/.well-known/openid-configuration`` and the client's credentials.
"""

import os

SECRET_KEY = "relying-party-tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "mozilla_django_oidc",
    "tests.browser.rp_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "tests.browser.rp_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["RP_DATABASE"]}}

# Cookies are not told apart by port: the provider may share this host, so the relying
# party's cookies get names of their own.
SESSION_COOKIE_NAME = "rp_sessionid"
CSRF_COOKIE_NAME = "rp_csrftoken"

AUTHENTICATION_BACKENDS = ["tests.browser.rp_site.auth.ProviderBackend"]
LOGIN_URL = "oidc_authentication_init"
LOGIN_REDIRECT_URL = "/"
LOGIN_REDIRECT_URL_FAILURE = "/?failed=1"
LOGOUT_REDIRECT_URL = "/"

# mozilla-django-oidc: only what the provider publishes, and the client's credentials.
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ["RP_OIDC_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT = os.environ["RP_OIDC_TOKEN_ENDPOINT"]
OIDC_OP_USER_ENDPOINT = os.environ["RP_OIDC_USERINFO_ENDPOINT"]
OIDC_OP_JWKS_ENDPOINT = os.environ["RP_OIDC_JWKS_URI"]
OIDC_RP_CLIENT_ID = os.environ["RP_OIDC_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = os.environ["RP_OIDC_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
# Kept in the session so the home page can show who signed the ID token, and for whom.
OIDC_STORE_ID_TOKEN = True
OIDC_TIMEOUT = 10

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"mozilla_django_oidc": {"handlers": ["console"], "level": "DEBUG"}},
}
