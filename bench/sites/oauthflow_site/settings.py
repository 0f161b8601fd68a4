"""The oauthflow bench site: oauthflow with its default settings behind gunicorn.

With OpenID Connect (``oauthflow.oidc``) installed when this checkout has it: a code
exchange without ``openid`` takes the same path as on a site without it (the ID token hook
returns at once), and the openid variants of the authorization_code scenario get ID tokens.

With JWT access tokens (``oauthflow.formats.jwt``, RFC 9068) in this checkout, the site is
also the API ``JWT_RESOURCE`` (``OAUTHFLOW["RESOURCE"]``): it verifies JWT access tokens for
that audience locally. Opaque tokens take the same path as without the setting.

With DPoP (``oauthflow.dpop``, RFC 9449) in this checkout, the app is installed with its
defaults: a token bound to a key is presented as ``Authorization: DPoP <token>`` with a
fresh proof, each proof's ``jti`` recorded once in the replay store: the database
(``oauthflow_dpop_usedproof``) on the plain server, the Redis ``TOKEN_CACHE`` on the
cached one. Bearer tokens take the same path as without the app.
"""

import importlib.util
import os

from shared_settings import *  # noqa: F403
from shared_settings import BASE_INSTALLED_APPS

OPENID = importlib.util.find_spec("oauthflow.oidc") is not None
JWT = importlib.util.find_spec("oauthflow.formats.jwt") is not None
DPOP = importlib.util.find_spec("oauthflow.dpop") is not None
#: The API the "jwt" variants' tokens are for (a Resource with token_format="jwt").
JWT_RESOURCE = "https://api.example.com/"
INSTALLED_APPS = [
    *BASE_INSTALLED_APPS,
    "oauthflow",
    *(["oauthflow.oidc"] if OPENID else []),
    *(["oauthflow.dpop"] if DPOP else []),
]
ROOT_URLCONF = "oauthflow_site.urls"
WSGI_APPLICATION = "oauthflow_site.wsgi.application"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The bench's own Redis database: the bench clears it (FLUSHDB) between scenarios.
    "tokens": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "KEY_PREFIX": f"oauthflow-bench-{os.environ.get('BENCH_DB', '')}",
    },
}

# oauthflow's defaults. BENCH_TOKEN_CACHE=1 (a second server) turns on the Redis token cache
# (and so DPoP's replay store moves there: DPOP_REPLAY_CACHE falls back to TOKEN_CACHE).
OAUTHFLOW = {}
if OPENID or JWT:
    # Encrypts the signing keys at rest (required with DEBUG off). Bench-only, like
    # SECRET_KEY: every process of a run (tasks, gunicorn workers) must decrypt the same rows.
    OAUTHFLOW["SIGNING_KEY_ENCRYPTION_KEYS"] = ["YmVuY2gtb25seS1ub3Qtc2VjcmV0LWZlcm5ldC1rZXk="]
if JWT:
    # This site is also the API the JWT access tokens are for: verified locally (signature
    # against the in-process key copy), no query per request.
    OAUTHFLOW["RESOURCE"] = JWT_RESOURCE
if os.environ.get("BENCH_TOKEN_CACHE") == "1":
    OAUTHFLOW["TOKEN_CACHE"] = "tokens"
