"""Bench tasks for the django-oauth-toolkit site, run in its virtualenv:
``python -m dot_site.tasks``. The same commands as the oauthflow site's tasks.

DOT's client-secret hasher is switched per application (``hash_client_secret``), so each
grant has two applications: ``default`` (hashed, as DOT ships) and ``hasher-off``.
"""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dot_site.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.generators import generate_client_secret  # noqa: E402
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken  # noqa: E402
from oauthlib.common import generate_token  # noqa: E402
from shared import (  # noqa: E402
    REDIRECT_URI,
    basic,
    cli,
    code_request,
    fill_tables,
    introspect_request,
    load_state,
    refresh_request,
    s256,
    save_state,
)

APPLICATIONS = {
    # label: (grant type, hash_client_secret)
    "code-default": (Application.GRANT_AUTHORIZATION_CODE, True),
    "code-hasher-off": (Application.GRANT_AUTHORIZATION_CODE, False),
    "cc-default": (Application.GRANT_CLIENT_CREDENTIALS, True),
    "cc-hasher-off": (Application.GRANT_CLIENT_CREDENTIALS, False),
    "filler": (Application.GRANT_AUTHORIZATION_CODE, False),
}
TABLES = (AccessToken, RefreshToken, Grant)
TOKEN_PATH = "/o/token/"

# The filler: tokens in clear with their checksum, as DOT stores them (see the oauthflow
# site's FILLER_SQL).
FILLER_SQL = """
    CREATE TEMP TABLE filler ON COMMIT DROP AS
    SELECT %(tag)s || g::text AS token,
           encode(sha256(convert_to(%(tag)s || g::text, 'UTF8')), 'hex') AS checksum
    FROM generate_series(%(start)s, %(stop)s) AS g"""
FILL_SQL = {
    "oauth2_provider_accesstoken": """
        INSERT INTO oauth2_provider_accesstoken
            (token, token_checksum, expires, scope, application_id, user_id, created, updated,
             resource)
        SELECT token, checksum, now() - interval '1 day', 'read', %(app)s, %(user)s,
               now() - interval '2 days', now() - interval '2 days', '[]'
        FROM filler""",
    "oauth2_provider_refreshtoken": """
        INSERT INTO oauth2_provider_refreshtoken
            (token, token_checksum, application_id, user_id, created, updated, token_family,
             resource)
        SELECT token, checksum, %(app)s, %(user)s, now() - interval '2 days',
               now() - interval '2 days', left(checksum, 32)::uuid, '[]'
        FROM filler""",
    "oauth2_provider_grant": """
        INSERT INTO oauth2_provider_grant
            (code, expires, redirect_uri, scope, application_id, user_id, created, updated,
             code_challenge, code_challenge_method, nonce, claims, resource)
        SELECT token, now() + interval '1 day', %(redirect_uri)s, 'read', %(app)s, %(user)s,
               now() - interval '2 days', now() - interval '2 days', 'x', 'S256', '', '', '[]'
        FROM filler""",
}


def setup() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    for username in ("bench-user", "filler-user"):
        user_model.objects.create(username=username)
    state = {"clients": {}}
    for label, (grant_type, hashed) in APPLICATIONS.items():
        secret = generate_client_secret()
        app = Application.objects.create(
            name=f"bench {label}",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant_type,
            redirect_uris=REDIRECT_URI
            if grant_type == Application.GRANT_AUTHORIZATION_CODE
            else "",
            client_secret=secret,
            hash_client_secret=hashed,
        )
        state["clients"][label] = {"pk": app.pk, "id": app.client_id, "secret": secret}
    save_state(state)
    import oauth2_provider
    import rest_framework

    return {
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "django-oauth-toolkit": oauth2_provider.__version__,
    }


def fill(rows: int) -> dict:
    """Bring each token table to ``rows`` filler rows, shaped as in the oauthflow site:
    expired access tokens, live refresh tokens and grants, stored as DOT stores them."""
    state = load_state()
    app = state["clients"]["filler"]["pk"]
    user = get_user_model().objects.get(username="filler-user").pk
    counts = fill_tables(
        TABLES,
        {"application_id": app},
        {"app": app, "user": user, "stop": rows},
        FILLER_SQL,
        FILL_SQL,
    )
    return {"rows": counts}


def prune() -> dict:
    filler = load_state()["clients"]["filler"]["pk"]
    with transaction.atomic():
        deleted = {
            m._meta.db_table: m.objects.exclude(application_id=filler).delete()[0] for m in TABLES
        }
    return {"deleted": deleted}


def _app(label: str) -> tuple[Application, str]:
    entry = load_state()["clients"][label]
    return Application.objects.get(pk=entry["pk"]), basic(entry["id"], entry["secret"])


def items(kind: str, count: int, client: str | None = None) -> list[tuple[str, str]]:
    """``count`` requests of ``kind`` for the ``default`` or ``hasher-off`` application."""
    now = timezone.now()
    user = get_user_model().objects.get(username="bench-user")
    client = client or "default"
    app, app_auth = _app(f"code-{client}")
    if kind == "client_credentials":
        _, auth = _app(f"cc-{client}")
        return [(auth, "grant_type=client_credentials&scope=read")] * count
    if kind == "authorization_code":
        rows, out = [], []
        for _ in range(count):
            code, verifier = generate_token(), secrets.token_urlsafe(48)
            rows.append(
                Grant(
                    user=user,
                    code=code,
                    application=app,
                    expires=now + timedelta(minutes=30),
                    redirect_uri=REDIRECT_URI,
                    scope="read",
                    code_challenge=s256(verifier),
                    code_challenge_method=Grant.CODE_CHALLENGE_S256,
                )
            )
            out.append((app_auth, code_request(code, verifier)))
        Grant.objects.bulk_create(rows, batch_size=2000)
        return out
    if kind == "refresh_token":
        _, refresh = _mint_tokens(app, user, count, with_refresh=True)
        return [(app_auth, refresh_request(r)) for r in refresh]
    if kind == "bearer":
        access, _ = _mint_tokens(app, user, count, with_refresh=False)
        return [(f"Bearer {a}", "") for a in access]
    if kind == "introspect":
        access, _ = _mint_tokens(app, user, count, with_refresh=False)
        return [(app_auth, introspect_request(a)) for a in access]
    raise SystemExit(f"unknown kind {kind!r}")


def _mint_tokens(app: Application, user, count: int, *, with_refresh: bool):
    """Access tokens (and refresh tokens bound to them) as DOT's authorization_code grant
    stores them; the checksum column is filled by DOT's own field on save."""
    now = timezone.now()
    access_values = [generate_token() for _ in range(count)]
    access_rows = AccessToken.objects.bulk_create(
        [
            AccessToken(
                user=user,
                token=value,
                application=app,
                expires=now + timedelta(hours=2),
                scope="read",
            )
            for value in access_values
        ],
        batch_size=2000,
    )
    refresh_values = []
    if with_refresh:
        refresh_values = [generate_token() for _ in range(count)]
        RefreshToken.objects.bulk_create(
            [
                RefreshToken(
                    user=user,
                    token=value,
                    application=app,
                    access_token=access,
                    token_family=uuid.uuid4(),
                )
                for value, access in zip(refresh_values, access_rows, strict=True)
            ],
            batch_size=2000,
        )
    return access_values, refresh_values


def capabilities() -> dict:
    return {}


if __name__ == "__main__":
    cli(sys.modules[__name__])
