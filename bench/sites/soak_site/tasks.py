"""Soak tasks, run in the oauthflow bench virtualenv: ``python -m soak_site.tasks``.

setup: migrate, users with signed-in sessions, clients. verify: what the database says
about single use after the soak.
"""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soak_site.settings")
django.setup()

from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from shared import REDIRECT_URI, emit, save_state  # noqa: E402

from oauthflow.models import AccessToken, AuthorizationCode, Client, RefreshToken  # noqa: E402

USERS = 20


def setup() -> dict:
    call_command("migrate", verbosity=0)
    state: dict = {"clients": {}, "sessions": []}
    for label, fields in {
        "app": {"grant_types": "authorization_code refresh_token", "redirect_uris": REDIRECT_URI},
        "cc": {"grant_types": "client_credentials", "default_scopes": "read"},
        "introspector": {"grant_types": "client_credentials", "may_introspect": True},
    }.items():
        client = Client(name=f"soak {label}", **fields)
        secret = client.set_secret()
        client.save()
        state["clients"][label] = {"id": client.client_id, "secret": secret}
    for n in range(USERS):
        user = get_user_model().objects.create(username=f"soak-{n}")
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        state["sessions"].append(session.session_key)
    save_state(state)
    return {"users": USERS}


def verify() -> dict:
    """Single use as the database records it: a code's family holds at most one pair
    bought with the code itself, and each refresh token was rotated at most once (the
    one-to-one rotated_from also enforces the second)."""
    first_pairs = (
        RefreshToken.objects.filter(rotated_from__isnull=True)
        .values("family")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    rotated_twice = (
        RefreshToken.objects.filter(rotated_from__isnull=False)
        .values("rotated_from")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    codes = AuthorizationCode.objects.aggregate(
        issued=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False))
    )
    return {
        "families_with_two_first_pairs": first_pairs,
        "refresh_tokens_rotated_twice": rotated_twice,
        "codes": codes,
        "access_tokens": AccessToken.objects.count(),
        "refresh_tokens": RefreshToken.objects.count(),
    }


if __name__ == "__main__":
    emit({"setup": setup, "verify": verify}[sys.argv[1]]())
