"""The oauthflow bench site: oauthflow with its default settings behind gunicorn."""

import os

from shared_settings import *  # noqa: F403
from shared_settings import BASE_INSTALLED_APPS

INSTALLED_APPS = [*BASE_INSTALLED_APPS, "oauthflow"]
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

# oauthflow's defaults. BENCH_TOKEN_CACHE=1 (a second server) turns on the Redis token cache.
OAUTHFLOW = {}
if os.environ.get("BENCH_TOKEN_CACHE") == "1":
    OAUTHFLOW["TOKEN_CACHE"] = "tokens"
