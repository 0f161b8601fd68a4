"""The django-oauth-toolkit bench site: DOT with its default settings behind gunicorn.

Its "hasher off" configuration is per application in DOT (``Application.hash_client_secret``),
so one server serves both: requests name a hashed or an unhashed application.
"""

from shared_settings import *  # noqa: F403
from shared_settings import BASE_INSTALLED_APPS

INSTALLED_APPS = [*BASE_INSTALLED_APPS, "oauth2_provider"]
ROOT_URLCONF = "dot_site.urls"
WSGI_APPLICATION = "dot_site.wsgi.application"

OAUTH2_PROVIDER = {}  # DOT's defaults
