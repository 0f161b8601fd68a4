"""Settings of the standalone API. The provider's URL comes from the environment
(``STANDALONE_ISSUER``; ``STANDALONE_JWKS_URI`` optionally), as the test starts the
provider first."""

import os

SECRET_KEY = "standalone-api-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

# No "oauthflow": its models, tables and keys live on the provider's host only. The auth
# app is here because DRF and oauthflow's resource side name AnonymousUser (no table is
# read for it).
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
]

# No database at all: Django's dummy backend, which raises on any query.
DATABASES = {}

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "tests.jwt.standalone.urls"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oauthflow.rest_framework.OAuth2Authentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oauthflow.rest_framework.TokenHasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

OAUTHFLOW = {
    "ISSUER": os.environ.get("STANDALONE_ISSUER", "http://127.0.0.1:1"),
    # STANDALONE_RESOURCE="": an API that has not set its RESOURCE.
    "RESOURCE": os.environ.get("STANDALONE_RESOURCE", "https://api.example.com/") or None,
    "ALLOW_INSECURE_TRANSPORT": True,
}
if os.environ.get("STANDALONE_JWKS_URI"):
    OAUTHFLOW["JWKS_URI"] = os.environ["STANDALONE_JWKS_URI"]

# STANDALONE_TOKEN_CACHE="<redis URL> <key prefix>": the cache the provider writes its
# revocation markers to, shared.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("STANDALONE_TOKEN_CACHE"):
    _location, _prefix = os.environ["STANDALONE_TOKEN_CACHE"].split()
    CACHES["tokens"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _location,
        "KEY_PREFIX": _prefix,
    }
    OAUTHFLOW["TOKEN_CACHE"] = "tokens"

# STANDALONE_DPOP=1: the API accepts DPoP-bound tokens, remembering proofs in the shared
# cache (it has no table for them).
if os.environ.get("STANDALONE_DPOP"):
    INSTALLED_APPS.append("oauthflow.dpop")
    OAUTHFLOW["DPOP_REPLAY_CACHE"] = "tokens"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "oauthflow": {"handlers": ["stderr"], "level": "DEBUG"},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
