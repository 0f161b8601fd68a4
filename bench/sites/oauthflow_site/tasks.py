"""Bench tasks for the oauthflow site, run in its virtualenv: ``python -m oauthflow_site.tasks``.

setup (migrate, users, clients), fill (bulk SQL filler rows), prune, mint (request files
with fresh credentials made through oauthflow's own models and token format), queries,
profile, cleartokens, capabilities.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauthflow_site.settings")
django.setup()

from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command, get_commands  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from shared import (  # noqa: E402
    REDIRECT_URI,
    basic,
    cli,
    code_request,
    fill_tables,
    introspect_request,
    load_state,
    refresh_request,
    save_state,
)

from oauthflow import tokens  # noqa: E402
from oauthflow.models import (  # noqa: E402
    AccessToken,
    AuthorizationCode,
    Client,
    RefreshToken,
    new_family_id,
)

from .views import resource_protection  # noqa: E402

CLIENTS = {
    "app": {"grant_types": "authorization_code refresh_token", "redirect_uris": REDIRECT_URI},
    "cc": {"grant_types": "client_credentials", "default_scopes": "read"},
    "introspector": {"grant_types": "client_credentials", "may_introspect": True},
    "filler": {"grant_types": "authorization_code refresh_token", "redirect_uris": REDIRECT_URI},
}
TABLES = (AccessToken, RefreshToken, AuthorizationCode)
TOKEN_PATH = "/oauth/token/"

# The filler: each row gets its own digest (sha256 of "<tag><n>") and family; shared.bulk_insert
# runs the INSERT with the indexes dropped and builds them again after.
FILLER_SQL = """
    CREATE TEMP TABLE filler ON COMMIT DROP AS
    SELECT encode(sha256(convert_to(%(tag)s || g::text, 'UTF8')), 'hex') AS digest
    FROM generate_series(%(start)s, %(stop)s) AS g"""
FILL_SQL = {
    "oauthflow_accesstoken": """
        INSERT INTO oauthflow_accesstoken
            (digest, hint, client_id, user_id, scope, family, created_at, expires_at)
        SELECT digest, 'ofat_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid,
               now() - interval '2 days', now() - interval '1 day'
        FROM filler""",
    "oauthflow_refreshtoken": """
        INSERT INTO oauthflow_refreshtoken
            (digest, hint, client_id, user_id, scope, family, created_at, expires_at,
             family_expires_at)
        SELECT digest, 'ofrt_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid,
               now() - interval '2 days', now() + interval '30 days', now() + interval '90 days'
        FROM filler""",
    "oauthflow_authorizationcode": """
        INSERT INTO oauthflow_authorizationcode
            (digest, hint, client_id, user_id, scope, family, created_at, expires_at,
             redirect_uri, code_challenge, code_challenge_method)
        SELECT digest, 'ofac_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid,
               now() - interval '2 days', now() + interval '1 day', %(redirect_uri)s, 'x', 'S256'
        FROM filler""",
}


def setup() -> dict:
    call_command("migrate", verbosity=0)
    caches["tokens"].clear()
    user_model = get_user_model()
    state = {"clients": {}}
    for username in ("bench-user", "filler-user"):
        user_model.objects.create(username=username)
    for label, fields in CLIENTS.items():
        client = Client(name=f"bench {label}", **fields)
        secret = client.set_secret()
        client.save()
        state["clients"][label] = {"pk": client.pk, "id": client.client_id, "secret": secret}
    save_state(state)
    import authlib
    import rest_framework

    return {
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "authlib": authlib.__version__,
    }


def fill(rows: int) -> dict:
    """Bring each token table to ``rows`` filler rows with one INSERT … SELECT each.

    Filler access tokens are expired (what ``oauthflow_cleartokens`` removes); filler
    refresh tokens and codes are live. Every filler row has its own digest and family.
    """
    state = load_state()
    client = state["clients"]["filler"]["pk"]
    user = get_user_model().objects.get(username="filler-user").pk
    counts = fill_tables(
        TABLES,
        {"client_id": client},
        {"client": client, "user": user, "stop": rows},
        FILLER_SQL,
        FILL_SQL,
    )
    return {"rows": counts}


def prune() -> dict:
    """Delete every credential that is not filler, so each scenario starts from the same table."""
    filler = load_state()["clients"]["filler"]["pk"]
    with transaction.atomic():
        RefreshToken.objects.exclude(client_id=filler).update(rotated_from=None)
        deleted = {
            m._meta.db_table: m.objects.exclude(client_id=filler).delete()[0] for m in TABLES
        }
    caches["tokens"].clear()
    return {"deleted": deleted}


def _client(label: str) -> tuple[Client, str]:
    entry = load_state()["clients"][label]
    return Client.objects.get(pk=entry["pk"]), basic(entry["id"], entry["secret"])


def items(kind: str, count: int, client: str | None = None) -> list[tuple[str, str]]:
    """``count`` requests of ``kind``, each with fresh credentials where the kind needs them.
    (``client`` is for DOT's two applications; oauthflow has one client per kind.)"""
    now = timezone.now()
    user = get_user_model().objects.get(username="bench-user")
    app, app_auth = _client("app")
    if kind == "client_credentials":
        _, auth = _client("cc")
        return [(auth, "grant_type=client_credentials&scope=read")] * count
    if kind == "authorization_code":
        rows, out = [], []
        for _ in range(count):
            code, verifier = tokens.generate(tokens.AUTHORIZATION_CODE_PREFIX), _verifier()
            rows.append(
                AuthorizationCode(
                    digest=tokens.digest(code),
                    hint=tokens.hint(code),
                    client=app,
                    user=user,
                    scope="read",
                    redirect_uri=REDIRECT_URI,
                    code_challenge=create_s256_code_challenge(verifier),
                    code_challenge_method="S256",
                    expires_at=now + timedelta(minutes=30),
                )
            )
            out.append((app_auth, code_request(code, verifier)))
        AuthorizationCode.objects.bulk_create(rows, batch_size=2000)
        return out
    if kind == "refresh_token":
        access, refresh = _mint_tokens(app, user, count, with_refresh=True)
        return [(app_auth, refresh_request(r)) for r in refresh]
    if kind == "bearer":
        access, _ = _mint_tokens(app, user, count, with_refresh=False)
        return [(f"Bearer {a}", "") for a in access]
    if kind == "introspect":
        access, _ = _mint_tokens(app, user, count, with_refresh=False)
        _, auth = _client("introspector")
        return [(auth, introspect_request(a)) for a in access]
    raise SystemExit(f"unknown kind {kind!r}")


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def _mint_tokens(app: Client, user, count: int, *, with_refresh: bool):
    """Access tokens (and their refresh tokens), as the authorization_code grant leaves them."""
    now = timezone.now()
    access_values, refresh_values, access_rows, refresh_rows = [], [], [], []
    for _ in range(count):
        family = new_family_id()  # as oauthflow issues them
        value = tokens.generate(tokens.ACCESS_TOKEN_PREFIX)
        access_values.append(value)
        access_rows.append(
            AccessToken(
                digest=tokens.digest(value),
                hint=tokens.hint(value),
                client=app,
                user=user,
                scope="read",
                family=family,
                expires_at=now + timedelta(hours=2),
            )
        )
        if with_refresh:
            value = tokens.generate(tokens.REFRESH_TOKEN_PREFIX)
            refresh_values.append(value)
            refresh_rows.append(
                RefreshToken(
                    digest=tokens.digest(value),
                    hint=tokens.hint(value),
                    client=app,
                    user=user,
                    scope="read",
                    family=family,
                    expires_at=now + timedelta(days=30),
                    family_expires_at=now + timedelta(days=90),
                )
            )
    AccessToken.objects.bulk_create(access_rows, batch_size=2000)
    RefreshToken.objects.bulk_create(refresh_rows, batch_size=2000)
    return access_values, refresh_values


def cleartokens() -> dict:
    if "oauthflow_cleartokens" not in get_commands():
        return {"skipped": "oauthflow_cleartokens is not in this checkout"}
    before = {m._meta.db_table: m.objects.count() for m in TABLES}
    started = time.perf_counter()
    call_command("oauthflow_cleartokens", verbosity=0)
    elapsed = time.perf_counter() - started
    after = {m._meta.db_table: m.objects.count() for m in TABLES}
    return {"seconds": elapsed, "before": before, "after": after}


def costs() -> dict:
    """In-process cost of the bearer check's parts, in µs: the least of 15 interleaved
    batches of 300 calls each (the least is the one the machine's other work disturbed
    least). Explains where the protected GET's time goes next to its bounds."""
    from django.db import connection

    from oauthflow.resource import validation
    from oauthflow.store import lookups

    app, _ = _client("app")
    user = get_user_model().objects.get(username="bench-user")
    (value,), _ = _mint_tokens(app, user, 1, with_refresh=False)
    digest = tokens.digest(value)
    sql = lookups.access_token._plan(connection.alias).sql
    cursor = connection.cursor()

    def select_1():
        cursor.execute("SELECT 1")
        cursor.fetchone()

    def same_sql_on_a_cursor():
        cursor.execute(sql, [digest])
        cursor.fetchmany(2)

    calls = {
        "SELECT 1 on a cursor": select_1,
        "the bearer check's SQL on a cursor": same_sql_on_a_cursor,
        "oauthflow.store.lookups.access_token.get": lambda: lookups.access_token.get(digest),
        "resource.validation.validate (digest + lookup + checks)": lambda: validation.validate(
            value
        ),
        "the same query through the ORM (select_related().get())": lambda: (
            AccessToken.objects.select_related("client", "user").get(digest=digest)
        ),
    }
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(15):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(300):
                call()
            best[name] = min(best[name], (time.perf_counter() - started) / 300 * 1e6)
    return {name: round(us) for name, us in best.items()}


def capabilities() -> dict:
    return {
        "resource_protection": resource_protection() is not None,
        "cleartokens": "oauthflow_cleartokens" in get_commands(),
    }


if __name__ == "__main__":
    cli(sys.modules[__name__])
