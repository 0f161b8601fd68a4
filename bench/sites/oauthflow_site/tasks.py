"""Bench tasks for the oauthflow site, run in its virtualenv: ``python -m oauthflow_site.tasks``.

setup (migrate, users, clients, signing keys), fill (bulk SQL filler rows), prune, mint
(request files with fresh credentials made through oauthflow's own models and token
format), queries, profile, cleartokens, costs, openid (the ID token's in-process cost),
jwt_costs (a JWT access token's verification, in-process), dpop_costs (a DPoP proof's
verification and the replay store's writes, in-process), capabilities.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauthflow_site.settings")
django.setup()

from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command, get_commands  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from shared import (  # noqa: E402
    _TRANSACTION_CONTROL,
    REDIRECT_URI,
    basic,
    cli,
    code_request,
    fill_tables,
    introspect_request,
    load_state,
    refresh_request,
    save_state,
    sender,
)

from oauthflow import models as oauthflow_models  # noqa: E402
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

# OpenID Connect, when this checkout has it (the site installs oauthflow.oidc then). The
# openid code variants name their flavour as the variant's client: RS256 (the default) is
# the plain variant's own client, ES256 a client registered with that algorithm.
OPENID = "oauthflow.oidc" in settings.INSTALLED_APPS
Authentication = getattr(oauthflow_models, "Authentication", None)
OPENID_CLIENTS = {"openid-rs256": "app", "openid-es256": "app-es256"}
OPENID_SCOPE = "openid read"  # the plain variant's "read", and openid
if OPENID:
    CLIENTS["app-es256"] = {**CLIENTS["app"], "id_token_signed_response_alg": "ES256"}

# JWT access tokens (RFC 9068), when this checkout has them: a Resource with
# token_format="jwt" (the site is that API: settings.JWT_RESOURCE), allowed for "app" (whose
# user tokens the protected GET's jwt variants present) and for "cc-jwt", a client_credentials
# client like "cc" that names the resource in its token requests. The variants' client
# names the flavour: JWT_FLAVOURS.
JWT = getattr(settings, "JWT", False) and hasattr(oauthflow_models, "Resource")
JWT_RESOURCE = getattr(settings, "JWT_RESOURCE", None)
#: kind -> {variant client: what it mints}. "jwt": a user's token, as a code exchange naming
#: the resource issues it; "jwt-client": the client's own, as client_credentials issues it.
JWT_FLAVOURS = {"bearer": ("jwt", "jwt-client"), "client_credentials": ("jwt",)}
JWT_LIFETIME = 2 * 3600  # minted pools outlive a run, as the opaque ones do
if JWT:
    CLIENTS["cc-jwt"] = dict(CLIENTS["cc"])

# DPoP (RFC 9449), when this checkout has it (the site installs oauthflow.dpop then). The
# "dpop" kind: "app"'s user tokens, as the "bearer" kind's, bound to one ES256 key (a pool
# of DPOP_POOL cycled through), each request with a fresh proof. The variant's client field
# carries the proof's htu: the view's URL as the server builds it, its port included.
DPOP = "oauthflow.dpop" in settings.INSTALLED_APPS
DPOP_POOL = 2000
DPOP_PATH = "/api/protected/"

# The filler: each row gets its own digest (sha256 of "<tag><n>") and family; shared.bulk_insert
# runs the INSERT with the indexes dropped and builds them again after.
FILLER_SQL = """
    CREATE TEMP TABLE filler ON COMMIT DROP AS
    SELECT encode(sha256(convert_to(%(tag)s || g::text, 'UTF8')), 'hex') AS digest
    FROM generate_series(%(start)s, %(stop)s) AS g"""
FILL_SQL = {
    "oauthflow_accesstoken": """
        INSERT INTO oauthflow_accesstoken
            (digest, hint, client_id, user_id, scope, family, resource, jkt, created_at,
             expires_at)
        SELECT digest, 'ofat_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid, '', '',
               now() - interval '2 days', now() - interval '1 day'
        FROM filler""",
    "oauthflow_refreshtoken": """
        INSERT INTO oauthflow_refreshtoken
            (digest, hint, client_id, user_id, scope, family, created_at, expires_at,
             family_expires_at, resource, jkt)
        SELECT digest, 'ofrt_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid,
               now() - interval '2 days', now() + interval '30 days', now() + interval '90 days',
               '', ''
        FROM filler""",
    "oauthflow_authorizationcode": """
        INSERT INTO oauthflow_authorizationcode
            (digest, hint, client_id, user_id, scope, family, created_at, expires_at,
             redirect_uri, code_challenge, code_challenge_method, resource, dpop_jkt)
        SELECT digest, 'ofac_…fill', %(client)s, %(user)s, 'read', left(digest, 32)::uuid,
               now() - interval '2 days', now() + interval '1 day', %(redirect_uri)s, 'x', 'S256',
               '', ''
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
    if JWT:
        resource = oauthflow_models.Resource.objects.create(
            identifier=JWT_RESOURCE, name="bench API", token_format="jwt"
        )
        for label in ("app", "cc-jwt"):
            Client.objects.get(pk=state["clients"][label]["pk"]).resources.add(resource)
    if OPENID or JWT:
        from oauthflow import keys

        # One key per algorithm that signs at once, made here rather than by the first
        # request of a measured run (and by two gunicorn workers racing to make it).
        for alg in ("RS256", "ES256"):
            keys.create_key(alg, signs_from=timezone.now())
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
        if OPENID:
            deleted[Authentication._meta.db_table] = Authentication.objects.all().delete()[0]
        if DPOP:
            from oauthflow.dpop.models import UsedProof

            deleted[UsedProof._meta.db_table] = UsedProof.objects.all().delete()[0]
    caches["tokens"].clear()
    return {"deleted": deleted}


def _client(label: str) -> tuple[Client, str]:
    entry = load_state()["clients"][label]
    return Client.objects.get(pk=entry["pk"]), basic(entry["id"], entry["secret"])


def items(
    kind: str, count: int, client: str | None = None, *, one_token: bool = False
) -> list[tuple[str, ...]]:
    """``count`` requests of ``kind``, each with fresh credentials where the kind needs them.
    (``client`` is for DOT's two applications; oauthflow has one client per kind, except
    for the openid flavours of authorization_code, ``OPENID_CLIENTS``, and the JWT access
    token flavours of bearer and client_credentials, ``JWT_FLAVOURS``; for "dpop" it is
    the proofs' htu, and ``one_token`` has every request present the pool's first token.)"""
    if kind == "dpop":
        if not DPOP:
            raise SystemExit("DPoP (oauthflow.dpop) is not in this checkout")
        if not client:
            raise SystemExit("dpop requests need the proofs' htu (the mint's CLIENT field)")
        key, values = dpop_pool()
        return dpop_requests(key, values[:1] if one_token else values, count, client)
    now = timezone.now()
    user = get_user_model().objects.get(username="bench-user")
    if client in JWT_FLAVOURS.get(kind, ()):
        if not JWT:
            raise SystemExit("JWT access tokens (oauthflow.formats.jwt) are not in this checkout")
        return _jwt_items(kind, count, client, user)
    if client is not None and (kind != "authorization_code" or client not in OPENID_CLIENTS):
        raise SystemExit(f"oauthflow has no client {client!r} for {kind!r}")
    if client is not None and not OPENID:
        raise SystemExit("OpenID Connect (oauthflow.oidc) is not in this checkout")
    app, app_auth = _client(OPENID_CLIENTS[client] if client else "app")
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
                    scope=OPENID_SCOPE if client else "read",
                    redirect_uri=REDIRECT_URI,
                    code_challenge=create_s256_code_challenge(verifier),
                    code_challenge_method="S256",
                    expires_at=now + timedelta(minutes=30),
                )
            )
            out.append((app_auth, code_request(code, verifier)))
        AuthorizationCode.objects.bulk_create(rows, batch_size=2000)
        if client:
            _authentications(rows, now)
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


def _jwt_items(kind: str, count: int, flavour: str, user) -> list[tuple[str, str]]:
    """Requests of the JWT flavours. client_credentials: the "cc" request naming the JWT
    resource (the token endpoint then issues a JWT). bearer: JWT access tokens as the
    token endpoint issues them for the resource (``formats.get("jwt").generate`` with the
    context ``AuthorizationServer._generate_token`` gives it: audience, subject, and no
    ``auth_time`` for a code issued without ``openid``; the issuer is not checked, as
    ``ISSUER`` is unset), each stored as its digest row like any issued token."""
    if kind == "client_credentials":
        _, auth = _client("cc-jwt")
        body = urlencode(
            {"grant_type": "client_credentials", "scope": "read", "resource": JWT_RESOURCE}
        )
        return [(auth, body)] * count
    values = mint_jwt(count, user=user if flavour == "jwt" else None)
    return [(f"Bearer {v}", "") for v in values]


def mint_jwt(count: int, *, user=None, alg: str = "RS256") -> list[str]:
    """``count`` JWT access tokens for the JWT resource, with their rows: a user's (for
    ``user``, client "app") or, without one, client "cc-jwt"'s own."""
    from oauthflow import formats
    from oauthflow.adapter import get_adapter

    client, _ = _client("app" if user is not None else "cc-jwt")
    jwt_format = formats.get("jwt")
    subject = get_adapter().get_subject(user) if user is not None else None
    now = timezone.now()
    values, rows = [], []
    for _ in range(count):
        value = jwt_format.generate(
            client=client, user=user, scope="read", expires_in=JWT_LIFETIME,
            issuer="http://127.0.0.1", audience=[JWT_RESOURCE], subject=subject, alg=alg,
        )  # fmt: skip
        values.append(value)
        rows.append(
            AccessToken(
                digest=tokens.digest(value),
                hint=tokens.hint(value),
                client=client,
                user=user,
                scope="read",
                family=new_family_id(),
                resource=JWT_RESOURCE,
                expires_at=now + timedelta(seconds=JWT_LIFETIME),
            )
        )
    AccessToken.objects.bulk_create(rows, batch_size=2000)
    return values


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def _authentications(codes: list[AuthorizationCode], now) -> None:
    """The ``Authentication`` row of each openid code's authorization, as
    ``oauthflow.oidc.authentication.record`` writes it when the code is stored: the subject,
    a session id, a nonce (so the ID token carries one), the sign-in time, the default
    adapter's empty acr/amr, no claims parameter."""
    from oauthflow.oidc.subject import subject_for
    from oauthflow.settings import oauthflow_settings

    lifetime = timedelta(seconds=oauthflow_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME)
    subjects: dict = {}
    rows = []
    for code in codes:
        if code.client_id not in subjects:
            subjects[code.client_id] = subject_for(code.user, code.client)
        rows.append(
            Authentication(
                family=code.family,
                client=code.client,
                user=code.user,
                sub=subjects[code.client_id],
                sid=secrets.token_urlsafe(24),
                nonce=secrets.token_urlsafe(16),
                auth_time=now - timedelta(seconds=30),
                acr="",
                amr="",
                claims={},
                expires_at=now + lifetime,
            )
        )
    Authentication.objects.bulk_create(rows, batch_size=2000)


def _mint_tokens(app: Client, user, count: int, *, with_refresh: bool, jkt: str = ""):
    """Access tokens (and their refresh tokens), as the authorization_code grant leaves them
    (``jkt``: the access tokens bound to that DPoP key, as a request with a proof leaves them)."""
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
                jkt=jkt,
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


def jwt_costs() -> dict:
    """In-process cost of a JWT access token's check, in µs, as ``costs`` measures (least
    of 15 interleaved batches of 300 calls): ``formats.get("jwt").verify`` and the whole
    ``validation.validate`` for an RS256 and an ES256 token, ``validate`` with
    ``TOKEN_CACHE`` on (the revocation marker's one cache read, on Redis, a miss as for
    any token not revoked), and the parts. The token endpoint passes the format no ``alg``
    (it signs RS256): the ES256 token is signed by the format's ``generate(alg="ES256")``
    (``keys.signing_key("ES256")``) with the claims it gives the RS256 one; the answer says
    which algorithm the endpoint itself used."""
    from django.test import override_settings
    from joserfc import jws, jwt

    from oauthflow import formats
    from oauthflow.formats import jwt as jwt_format
    from oauthflow.formats import keysource
    from oauthflow.resource import markers, validation

    user = get_user_model().objects.get(username="bench-user")
    values = {alg: mint_jwt(1, user=user, alg=alg)[0] for alg in ("RS256", "ES256")}
    fmt = formats.get("jwt")
    headers = {alg: jws.extract_compact(v.encode()).protected for alg, v in values.items()}
    keys_ = {alg: keysource.get().key(h["kid"]) for alg, h in headers.items()}
    claims = dict(jwt.decode(values["RS256"], keys_["RS256"], algorithms=["RS256"]).claims)
    cache_on = override_settings(OAUTHFLOW={**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"})
    marker = markers.KEY_PREFIX + tokens.digest(values["RS256"])
    client, _ = _client("cc-jwt")

    def with_cache(call):
        def run(n: int) -> None:
            with cache_on:
                for _ in range(n):
                    call()

        return run

    def plain(call):
        def run(n: int) -> None:
            for _ in range(n):
                call()

        return run

    calls = {}
    for alg, value in values.items():
        calls[f"verify {alg} (formats.get('jwt').verify)"] = plain(lambda v=value: fmt.verify(v))
    for alg, value in values.items():
        calls[f"validate {alg}, TOKEN_CACHE off"] = plain(lambda v=value: validation.validate(v))
        calls[f"validate {alg}, TOKEN_CACHE on (digest + 1 cache read)"] = with_cache(
            lambda v=value: validation.validate(v)
        )
    calls |= {
        "  the revocation check's cache read alone (Redis GET, a miss)": plain(
            lambda: caches["tokens"].get(marker)
        ),
        "  tokens.digest of the value (the cache key)": plain(
            lambda: tokens.digest(values["RS256"])
        ),
        "  the header (jws.extract_compact)": plain(
            lambda: jws.extract_compact(values["RS256"].encode())
        ),
        "  the key by kid (keysource: keys.verification_key)": plain(
            lambda: keysource.get().key(headers["RS256"]["kid"])
        ),
        "  jwt.decode RS256, key already imported (signature, claims)": plain(
            lambda: jwt.decode(values["RS256"], keys_["RS256"], algorithms=["RS256"])
        ),
        "  jwt.decode ES256, key already imported (signature, claims)": plain(
            lambda: jwt.decode(values["ES256"], keys_["ES256"], algorithms=["ES256"])
        ),
        "  check_claims": plain(
            lambda: jwt_format.check_claims(
                claims, None, JWT_RESOURCE, time.time(), keysource.get()
            )
        ),
    }
    for alg in ("RS256", "ES256"):
        calls[f"issuing: generate {alg} (sign the claims)"] = plain(
            lambda a=alg: fmt.generate(
                client=client,
                user=None,
                scope="read",
                expires_in=300,
                issuer="http://127.0.0.1",
                audience=[JWT_RESOURCE],
                alg=a,
            )
        )
    for run in calls.values():
        run(20)  # warm: imports, the key table read once
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(15):
        for name, run in calls.items():
            started = time.perf_counter()
            run(300)
            best[name] = min(best[name], (time.perf_counter() - started) / 300 * 1e6)
    # What the token endpoint issues for the resource (the "oauthflow jwt" request).
    auth, body = items("client_credentials", 1, "jwt")[0]
    response = sender("POST", TOKEN_PATH)(auth, body)
    answer = json.loads(response.content) if response.status_code == 200 else {}
    issued = answer.get("access_token", "")
    if issued.startswith("eyJ"):
        endpoint_alg = jws.extract_compact(issued.encode()).protected.get("alg")
    else:
        endpoint_alg = f"no JWT (HTTP {response.status_code})"
    return {
        "us": {name: round(us, 1) for name, us in best.items()},
        # Both must be JWTAccessToken: the timings are of accepted tokens.
        "accepted": {alg: type(validation.validate(v)).__name__ for alg, v in values.items()},
        "endpoint_alg": endpoint_alg,
    }


def openid(reps: int, batch: int) -> dict:
    """What the ID token adds to a code exchange, in-process, one request at a time: code
    exchanges through the whole site (``django.test.Client``, the token view, PostgreSQL)
    in batches of ``batch``, plain, openid RS256 and openid ES256 in turn (the order
    rotating), ``reps`` rounds after one warm-up round. Per flavour the median of its
    batches' ms per request; per algorithm the median of the per-round differences
    (openid - plain) and ratios (openid / plain), and the least round's against the least
    round's. Then the ID token's own parts, the least of interleaved batches (as
    ``costs``): the Authentication row read, the claims and each algorithm's signature."""
    from joserfc import jws

    flavours = {"plain": None, "RS256": "openid-rs256", "ES256": "openid-es256"}
    prune()
    requests = {n: items("authorization_code", (reps + 1) * batch, c) for n, c in flavours.items()}
    send = sender("POST", TOKEN_PATH)
    statuses: dict[str, Counter] = {name: Counter() for name in flavours}
    algs: dict[str, Counter] = {name: Counter() for name in flavours}
    times: dict[str, list[float]] = {name: [] for name in flavours}
    names = list(flavours)
    for rnd in range(reps + 1):  # round 0 warms up and is not kept
        for name in names[rnd % 3 :] + names[: rnd % 3]:
            chunk = requests[name][rnd * batch : (rnd + 1) * batch]
            responses = []
            started = time.perf_counter()
            for auth, body in chunk:
                responses.append(send(auth, body))
            elapsed = time.perf_counter() - started
            if rnd:
                times[name].append(1000 * elapsed / batch)
            for response in responses:
                statuses[name][response.status_code] += 1
                answer = json.loads(response.content) if response.status_code == 200 else {}
                token = answer.get("id_token")
                alg = jws.extract_compact(token.encode()).headers()["alg"] if token else "-"
                algs[name][alg] += 1
    result: dict = {
        "reps": reps,
        "batch": batch,
        "ms_per_request": {n: statistics.median(t) for n, t in times.items()},
        "per_rep_ms": times,
        "statuses": {n: dict(c) for n, c in statuses.items()},
        "id_token_alg": {n: dict(c) for n, c in algs.items()},
    }
    for alg in ("RS256", "ES256"):
        pairs = list(zip(times[alg], times["plain"], strict=True))
        result[alg] = {
            "added_ms": statistics.median(a - p for a, p in pairs),
            "ratio": statistics.median(a / p for a, p in pairs),
            "per_rep_added_ms": [a - p for a, p in pairs],
            # The rounds the machine's other work disturbed least, for comparison.
            "added_ms_least": min(times[alg]) - min(times["plain"]),
        }
    result["parts_us"] = _id_token_parts()
    return result


def _id_token_parts() -> dict:
    """µs of the ID token's parts (least of 15 interleaved batches of 100 calls)."""
    from django.db import connection

    from oauthflow.oidc import id_token

    app, _ = _client("app")
    user = get_user_model().objects.get(username="bench-user")
    items("authorization_code", 1, "openid-rs256")
    record = Authentication.objects.filter(client=app).latest("pk")
    record.client, record.user = app, user
    access = tokens.generate(tokens.ACCESS_TOKEN_PREFIX)

    def claims(alg: str) -> dict:
        return id_token.id_token_claims(
            record, issuer="http://127.0.0.1", access_token=access, scope=OPENID_SCOPE,
            nonce=True, alg=alg,
        )  # fmt: skip

    signed = {alg: claims(alg) for alg in ("RS256", "ES256")}
    query = Authentication.objects.filter(family=record.family)
    sql, params = query.order_by("pk")[:1].query.sql_with_params()
    cursor = connection.cursor()

    def same_sql_on_a_cursor():
        cursor.execute(sql, params)
        cursor.fetchmany(2)

    calls = {
        "the Authentication row by family, as id_token.py reads it (ORM .first())": lambda: (
            Authentication.objects.filter(family=record.family).first()
        ),
        "the same SELECT on a cursor": same_sql_on_a_cursor,
        "the claims (id_token_claims)": lambda: claims("RS256"),
        "sign RS256 (id_token.sign)": lambda: id_token.sign(signed["RS256"], "RS256"),
        "sign ES256 (id_token.sign)": lambda: id_token.sign(signed["ES256"], "ES256"),
    }
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(15):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(100):
                call()
            best[name] = min(best[name], (time.perf_counter() - started) / 100 * 1e6)
    return {name: round(us) for name, us in best.items()}


# DPoP ------------------------------------------------------------------------------------


def _dpop_pool_path() -> Path:
    state = Path(os.environ["BENCH_STATE"])
    return state.with_name(state.stem + "-dpop.json")


def dpop_pool():
    """(the client's ES256 key, DPOP_POOL access token values bound to it). Made once and
    kept beside the site's state file while its tokens are in the database and live for
    another hour (``prune`` deletes them: the next call makes a new pool)."""
    from joserfc.jwk import ECKey

    path = _dpop_pool_path()
    if path.exists():
        pool = json.loads(path.read_text())
        key = ECKey.import_key(pool["key"])
        live = AccessToken.objects.filter(
            digest__in=[tokens.digest(v) for v in pool["tokens"]],
            jkt=key.thumbprint(),
            expires_at__gt=timezone.now() + timedelta(hours=1),
        )
        if live.count() == len(pool["tokens"]):
            return key, pool["tokens"]
    key = ECKey.generate_key("P-256", private=True)
    app, _ = _client("app")
    user = get_user_model().objects.get(username="bench-user")
    values, _ = _mint_tokens(app, user, DPOP_POOL, with_refresh=False, jkt=key.thumbprint())
    path.write_text(json.dumps({"key": key.as_dict(private=True), "tokens": values}))
    return key, values


def dpop_proofs(key, count: int, htu: str, access_tokens: list[str], method: str = "GET"):
    """``count`` proofs (RFC 9449 §4.2) signed with ``key``: each its own ``jti``, ``htm``
    ``method``, ``htu``, ``iat`` now, and the ``ath`` of ``access_tokens[i % len]``."""
    from joserfc import jwt

    from oauthflow.dpop.proof import ath

    alg = "ES256" if key.key_type == "EC" else "RS256"
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    hashes = [ath(value) for value in access_tokens]
    proofs = []
    for i in range(count):
        claims = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": htu,
            "iat": int(time.time()),
            "ath": hashes[i % len(hashes)],
        }
        proofs.append(jwt.encode(header, claims, key, algorithms=[alg]))
    return proofs


def dpop_requests(key, values: list[str], count: int, htu: str) -> list[tuple[str, str, str]]:
    """Request lines of the "dpop" kind: ``Authorization: DPoP <token>`` (the pool cycled
    through) and a ``DPoP`` header with a fresh proof for that token."""
    proofs = dpop_proofs(key, count, htu, values)
    return [
        (f"DPoP {values[i % len(values)]}", "", f"DPoP: {proof}") for i, proof in enumerate(proofs)
    ]


def dpop_costs() -> dict:
    """In-process cost of a DPoP proof's check, in µs, and the replay store's writes per
    request.

    Costs, as ``costs`` measures them but with proofs made beforehand (each is single
    use): the least of DPOP_ROUNDS interleaved batches of DPOP_BATCH calls of
    ``oauthflow.dpop.proof.verify`` (method GET, the protected view's URL, ``ath`` of a
    bound token), each call with the next pre-made proof, replay store included: the
    database (one INSERT into ``oauthflow_dpop_usedproof``, autocommit on PostgreSQL) and
    the Redis cache (``DPOP_REPLAY_CACHE="tokens"``, one ``add``); and the checks alone,
    ``replay.claim`` replaced by a stub, for ES256 and RS256 proofs; then the parts; then
    the whole protected GET through the site (``django.test.Client``, the view the HTTP
    rows measure), Bearer with an unbound token against DPoP with a fresh proof, each
    store, so the HTTP rows' difference can be read against what one request costs alone.

    Writes: requests through the whole site (``django.test.Client``, the protected view)
    with a fresh proof each, for one token already used (warm): per request, the queries
    (``CaptureQueriesContext``), the INSERTs into ``oauthflow_dpop_usedproof`` and every
    call on the Redis cache backend, by operation, with those on the replay store's keys
    (``replay.KEY_PREFIX``) counted apart; then the last proof sent again (refused).
    """
    from unittest import mock

    from django.test import override_settings
    from joserfc import jws, jwt
    from joserfc.jwk import RSAKey

    from oauthflow.dpop import proof, replay

    htu = "http://127.0.0.1" + DPOP_PATH
    key, values = dpop_pool()
    value = values[0]
    rsa = RSAKey.generate_key(2048, private=True)
    base = {
        k: v for k, v in settings.OAUTHFLOW.items() if k not in ("TOKEN_CACHE", "DPOP_REPLAY_CACHE")
    }
    stores = {
        "database": base,
        "cache": {**base, "DPOP_REPLAY_CACHE": "tokens"},
        # TOKEN_CACHE on, as on the +cache server: the replay store falls back to it.
        "token cache": {**base, "TOKEN_CACHE": "tokens"},
    }
    no_store = mock.patch.object(replay, "claim", lambda jkt, jti, lifetime: True)
    need = (DPOP_ROUNDS + 1) * DPOP_BATCH
    made = {"ES256": dpop_proofs(key, 3 * need, htu, [value])}
    made["RS256"] = dpop_proofs(rsa, need, htu, [value])
    sample = made["ES256"][0]
    header = jws.extract_compact(sample.encode()).headers()
    public = proof._public_key(header["jwk"], "ES256")
    jkt = key.thumbprint()
    lifetime = 95
    send = sender("GET", DPOP_PATH)
    bearer_request = items("bearer", 1)[0]

    def verify(proofs):
        left = iter(proofs)
        return lambda: proof.verify(next(left), method="GET", urls=[htu], access_token=value)

    def get(requests):
        left = iter(requests)

        def call():
            response = send(*next(left))
            if response.status_code != 200:  # the timings are of accepted requests
                raise SystemExit(f"protected GET answered {response.status_code}")

        return call

    def dpop_get():
        return get(dpop_requests(key, [value], need, htu))

    # name: (what it runs under, one call)
    calls = {
        "verify ES256, database store (one INSERT)": (
            override_settings(OAUTHFLOW=stores["database"]),
            verify(made["ES256"][:need]),
        ),
        "verify ES256, cache store (one Redis add)": (
            override_settings(OAUTHFLOW=stores["cache"]),
            verify(made["ES256"][need : 2 * need]),
        ),
        "verify ES256, no store (replay.claim stubbed: the checks alone)": (
            no_store,
            verify(made["ES256"][2 * need :]),
        ),
        "verify RS256 (2048), no store (the checks alone)": (no_store, verify(made["RS256"])),
        "  the header (jws.extract_compact)": (
            None,
            lambda: jws.extract_compact(sample.encode(), registry=proof._REGISTRY),
        ),
        "  the key from the jwk (proof._public_key: checks, import)": (
            None,
            lambda: proof._public_key(header["jwk"], "ES256"),
        ),
        "  the signature and claims (jwt.decode, key imported)": (
            None,
            lambda: jwt.decode(sample, public, algorithms=["ES256"], registry=proof._REGISTRY),
        ),
        "  the thumbprint (key.thumbprint)": (None, public.thumbprint),
        "  replay.claim, database store (one INSERT)": (
            override_settings(OAUTHFLOW=stores["database"]),
            lambda: replay.claim(jkt, secrets.token_urlsafe(16), lifetime),
        ),
        "  replay.claim, cache store (one Redis add)": (
            override_settings(OAUTHFLOW=stores["cache"]),
            lambda: replay.claim(jkt, secrets.token_urlsafe(16), lifetime),
        ),
        "GET, Bearer (an unbound token), TOKEN_CACHE off": (
            override_settings(OAUTHFLOW=stores["database"]),
            get([bearer_request] * need),
        ),
        "GET, DPoP, database store": (
            override_settings(OAUTHFLOW=stores["database"]),
            dpop_get(),
        ),
        "GET, DPoP, cache store (DPOP_REPLAY_CACHE)": (
            override_settings(OAUTHFLOW=stores["cache"]),
            dpop_get(),
        ),
        "GET, Bearer, TOKEN_CACHE on (a hit)": (
            override_settings(OAUTHFLOW=stores["token cache"]),
            get([bearer_request] * need),
        ),
        "GET, DPoP, TOKEN_CACHE on (a hit; the replay store too)": (
            override_settings(OAUTHFLOW=stores["token cache"]),
            dpop_get(),
        ),
    }
    best = dict.fromkeys(calls, float("inf"))
    for rnd in range(DPOP_ROUNDS + 1):  # round 0 warms up and is not kept
        for name, (context, call) in calls.items():
            with context or contextlib.nullcontext():
                started = time.perf_counter()
                for _ in range(DPOP_BATCH):
                    call()
                elapsed = time.perf_counter() - started
            if rnd:
                best[name] = min(best[name], elapsed / DPOP_BATCH * 1e6)
    writes = {name: _dpop_writes(options, key, value, htu) for name, options in stores.items()}
    return {
        "us": {name: round(us, 1) for name, us in best.items()},
        "rounds": DPOP_ROUNDS,
        "batch": DPOP_BATCH,
        "writes": writes,
    }


DPOP_ROUNDS = 15
DPOP_BATCH = 100
#: Methods of Django's cache backends that write.
_CACHE_WRITES = ("add", "set", "set_many", "touch", "delete", "delete_many", "incr", "decr")
_CACHE_READS = ("get", "get_many", "has_key", "get_or_set")


def _dpop_writes(options: dict, key, value: str, htu: str) -> dict:
    """Protected GETs with a fresh proof each for one warm token under ``options``: what
    each wrote to the replay store (see ``dpop_costs``)."""
    from unittest import mock

    from django.core.cache.backends.redis import RedisCache
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from oauthflow.dpop import replay

    calls: list[tuple[str, str]] = []

    def recording(name):
        original = getattr(RedisCache, name)

        def method(self, key_or_map, *args, **kwargs):
            keys = list(key_or_map) if isinstance(key_or_map, (dict, list, tuple)) else [key_or_map]
            calls.extend((name, str(k)) for k in keys)
            return original(self, key_or_map, *args, **kwargs)

        return mock.patch.object(RedisCache, name, method)

    send = sender("GET", DPOP_PATH)
    warm, counted = 3, 10
    requests = dpop_requests(key, [value], warm + counted, htu)
    per_request = []
    with override_settings(OAUTHFLOW=options):
        alias = replay.cache_alias()
        for item in requests[:warm]:
            send(*item)  # the token read once (and cached, when the token cache is on)
        patches = [recording(name) for name in (*_CACHE_WRITES, *_CACHE_READS)]
        for patch in patches:
            patch.start()
        try:
            for item in [*requests[warm:], requests[-1]]:  # the last proof twice: a replay
                calls.clear()
                with CaptureQueriesContext(connection) as context:
                    response = send(*item)
                sql = [q["sql"] for q in context.captured_queries]
                work = [s for s in sql if not s.upper().startswith(_TRANSACTION_CONTROL)]
                inserts = sum("INSERT" in s and "oauthflow_dpop_usedproof" in s for s in sql)
                replay_ops = [n for n, k in calls if k.startswith(replay.KEY_PREFIX)]
                replay_cache_writes = sum(n in _CACHE_WRITES for n in replay_ops)
                per_request.append(
                    {
                        "status": response.status_code,
                        "queries": len(work),
                        "usedproof_inserts": inserts,
                        "replay_cache_writes": replay_cache_writes,
                        "replay_writes": inserts + replay_cache_writes,
                        "other_cache_writes": sum(
                            n in _CACHE_WRITES
                            for n, k in calls
                            if not k.startswith(replay.KEY_PREFIX)
                        ),
                        "cache_calls": dict(Counter(n for n, _ in calls)),
                    }
                )
        finally:
            for patch in patches:
                patch.stop()
    fresh, replayed = per_request[:-1], per_request[-1]
    return {
        "requests": len(fresh),
        "statuses": dict(Counter(str(r["status"]) for r in fresh)),
        "replay_writes_max": max(r["replay_writes"] for r in fresh),
        "replay_writes_total": sum(r["replay_writes"] for r in fresh),
        "usedproof_inserts_max": max(r["usedproof_inserts"] for r in fresh),
        "replay_cache_writes_max": max(r["replay_cache_writes"] for r in fresh),
        "other_cache_writes_max": max(r["other_cache_writes"] for r in fresh),
        "queries_max": max(r["queries"] for r in fresh),
        "cache_calls": fresh[-1]["cache_calls"],
        "replayed": replayed,
        "replay_store": f"cache {alias!r}" if alias else "database",
    }


def capabilities() -> dict:
    return {
        "resource_protection": resource_protection() is not None,
        "cleartokens": "oauthflow_cleartokens" in get_commands(),
        "openid": OPENID,
        "jwt": bool(JWT) and resource_protection() is not None,
        "dpop": DPOP and resource_protection() is not None,
    }


if __name__ == "__main__":
    cli(sys.modules[__name__])
