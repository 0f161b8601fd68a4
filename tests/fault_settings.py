"""Settings for tests/test_database_outage.py: the test suite's site on a PostgreSQL
cluster of the test's own (port in OAUTHFLOW_FAULT_PG_PORT), DEBUG on (the worst case for
leaking a traceback), persistent connections with health checks."""

import os

from tests.settings import *  # noqa: F403

DEBUG = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "oauthflow_faults",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": os.environ.get("OAUTHFLOW_FAULT_PG_PORT", "5432"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 2},
    }
}
