"""What both bench sites share: the measured view, request files, query counts, profiles.

A site's tasks module (``python -m <site>.tasks COMMAND``) runs inside that site's own
virtualenv and answers the runner with one line, ``BENCH_RESULT <json>``, on stdout.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlencode

from rest_framework.response import Response
from rest_framework.views import APIView

REDIRECT_URI = "https://client.example.com/callback"
FORM = "application/x-www-form-urlencoded"


class Hello(APIView):
    """The measured resource: one tiny JSON answer, behind each kind of protection."""

    required_scopes: list[str] | None = None  # read by the TokenHasScope permissions

    def get(self, request):
        return Response({"hello": getattr(request.user, "pk", None)})


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def write_lines(path: str, items: Iterable[tuple[str, ...]]) -> int:
    """One request a line: ``<Authorization header>\\t<form body>``, then any further
    headers as ``\\t<Name>: <value>`` (a DPoP proof) (walk.lua reads these)."""
    count = 0
    with open(path, "w") as out:
        for item in items:
            out.write("\t".join(item) + "\n")
            count += 1
    return count


def emit(result: dict) -> None:
    print("BENCH_RESULT " + json.dumps(result, default=str), flush=True)


def load_state() -> dict:
    path = Path(os.environ["BENCH_STATE"])
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(state: dict) -> None:
    Path(os.environ["BENCH_STATE"]).write_text(json.dumps(state))


# Filler rows ----------------------------------------------------------------------------

_SECONDARY_INDEXES = """
    SELECT index.relname, pg_get_indexdef(i.indexrelid), con.conname,
           pg_get_constraintdef(con.oid)
    FROM pg_index AS i
    JOIN pg_class AS index ON index.oid = i.indexrelid
    LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.contype = 'u'
    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"""


def bulk_insert(cursor, table: str, sql: str, params: dict) -> None:
    """Run one big INSERT … SELECT into ``table`` the fast way, in the caller's transaction:
    its secondary indexes and unique constraints are dropped first and built again after
    (a sorted build is several times faster than a million index insertions), and, for a
    superuser, foreign-key triggers are skipped (the filler's client and user exist)."""
    cursor.execute("SET LOCAL synchronous_commit = off")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute(_SECONDARY_INDEXES, [table])
    indexes = cursor.fetchall()
    for index, _, constraint, _ in indexes:
        if constraint:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
        else:
            cursor.execute(f'DROP INDEX "{index}"')
    cursor.execute(sql, params)
    for _, index_sql, constraint, constraint_sql in indexes:
        if constraint:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraint_sql}')
        else:
            cursor.execute(index_sql)


# In-process requests (query counts and profiles) ----------------------------------------


# What both sites are sent, built in one place so each provider gets the same requests.


def code_request(code: str, verifier: str) -> str:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    )


def refresh_request(refresh_token: str) -> str:
    return urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token})


def introspect_request(token: str) -> str:
    return urlencode({"token": token})


def fill_tables(
    tables: Iterable, owner: dict, sql_params: dict, filler_sql: str, fill_sql: dict
) -> dict:
    """Bring each table to ``sql_params["stop"]`` rows owned by the filler client (``owner``
    is the filter naming it), then VACUUM ANALYZE. Both sites call it with their own models
    and SQL. Returns the row counts."""
    from django.db import connection, transaction  # imported late: settings load first

    counts = {}
    for model in tables:
        table = model._meta.db_table
        have = model.objects.filter(**owner).count()
        if have < sql_params["stop"]:
            with transaction.atomic(), connection.cursor() as cursor:
                params = {**sql_params, "start": have + 1}
                params["redirect_uri"] = REDIRECT_URI
                params["tag"] = f"filler-{table}-"
                cursor.execute(filler_sql, params)
                bulk_insert(cursor, table, fill_sql[table], params)
        counts[table] = model.objects.count()
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return counts


def sender(method: str, path: str) -> Callable[..., object]:
    """``send(auth, body, *extra)``: one request in-process, as a line of a request file
    (``extra``: further headers, ``"<Name>: <value>"``). The host is 127.0.0.1, so a DPoP
    proof for it names ``http://127.0.0.1<path>``."""
    from django.test import Client

    http = Client(HTTP_HOST="127.0.0.1")

    def send(auth: str, body: str, *extra: str):
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        for field in extra:
            name, _, value = field.partition(": ")
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        if method == "POST":
            return http.post(path, body, content_type=FORM, **headers)
        return http.get(path, **headers)

    return send


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def count_queries(method: str, path: str, items: list[tuple[str, ...]]) -> dict:
    """Queries of one warm request: every item but the last warms up, the last is counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send = sender(method, path)
    for item in items[:-1]:
        send(*item)
    with CaptureQueriesContext(connection) as context:
        response = send(*items[-1])
    statements = [q["sql"] for q in context.captured_queries]
    return {
        "status": response.status_code,
        # Transaction control is not a query: BEGIN/COMMIT cost a round trip each, but the
        # budgets (and tests/test_token_queries.py) count the statements that do the work.
        "queries": sum(not s.upper().startswith(_TRANSACTION_CONTROL) for s in statements),
        "statements": len(statements),
        "sql": [s[:200] for s in statements],
    }


def profile(method: str, path: str, items: list[tuple[str, ...]], out_prefix: str) -> dict:
    """Profile ``items`` sent in-process with pyinstrument; keep HTML and text, sum self time."""
    from pyinstrument import Profiler

    send = sender(method, path)
    send(*items[0])  # imports and first-request set-up are not what we want to see
    profiler = Profiler(interval=0.001)
    statuses: dict[int, int] = defaultdict(int)
    started = time.perf_counter()
    with profiler:
        for item in items[1:]:
            statuses[send(*item).status_code] += 1
    elapsed = time.perf_counter() - started
    Path(out_prefix + ".html").write_text(profiler.output_html())
    Path(out_prefix + ".txt").write_text(profiler.output_text(unicode=False, color=False))
    by_function: dict[str, float] = defaultdict(float)
    by_package: dict[str, float] = defaultdict(float)
    _walk(profiler.last_session.root_frame(), by_function, by_package)
    total = sum(by_package.values()) or 1.0
    top = sorted(by_function.items(), key=lambda kv: -kv[1])[:10]
    return {
        "requests": len(items) - 1,
        "statuses": dict(statuses),
        "ms_per_request": 1000 * elapsed / max(1, len(items) - 1),
        "top_self_time": [(name, round(100 * t / total, 1)) for name, t in top],
        "by_package": {
            name: round(100 * t / total, 1)
            for name, t in sorted(by_package.items(), key=lambda kv: -kv[1])
        },
        "files": [out_prefix + ".html", out_prefix + ".txt"],
    }


def _walk(frame, by_function: dict, by_package: dict) -> None:
    """Sum each frame's own time (not its children's) by function and by package."""
    if frame is None:
        return
    self_time = frame.total_self_time
    if self_time > 0:
        name = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        by_function[name] += self_time
        by_package[_package(frame.file_path or "")] += self_time
    for child in frame.children:
        if not child.is_synthetic:
            _walk(child, by_function, by_package)


def _package(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/oauthflow/" in path:
        return "oauthflow"
    if "/bench/sites/" in path:
        return "bench site"
    return "python stdlib / interpreter" if path else "(native)"


# Command line ---------------------------------------------------------------------------


def cli(site) -> None:
    """``python -m <site>.tasks COMMAND``: the commands every site offers, on the functions
    its tasks module defines (setup, fill, prune, items, capabilities, and optionally
    cleartokens, costs, jwt_costs, dpop_costs, openid and TOKEN_PATH for profiles)."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup")
    sub.add_parser("capabilities")
    sub.add_parser("cleartokens")
    sub.add_parser("costs")
    sub.add_parser("jwt_costs")
    sub.add_parser("dpop_costs")
    sub.add_parser("fill").add_argument("--rows", type=int, required=True)
    mint_ = sub.add_parser(
        "mint", help="write request files: KIND CLIENT COUNT PATH (CLIENT: for dpop, the htu)"
    )
    mint_.add_argument("--prune", action="store_true", help="delete earlier credentials first")
    mint_.add_argument("--request", nargs=4, action="append", default=[])
    queries = sub.add_parser("queries", help="count queries: KIND METHOD PATH CLIENT")
    queries.add_argument("--probe", nargs=4, action="append", required=True)
    profile_ = sub.add_parser("profile")
    profile_.add_argument("--kind", action="append", required=True)
    profile_.add_argument("--count", type=int, required=True)
    profile_.add_argument("--out", required=True)
    openid = sub.add_parser("openid", help="the ID token's in-process cost (oauthflow only)")
    openid.add_argument("--reps", type=int, required=True)
    openid.add_argument("--batch", type=int, required=True)
    args = parser.parse_args()

    def client(value: str) -> str | None:
        return None if value == "-" else value

    if args.command == "fill":
        result = site.fill(args.rows)
    elif args.command == "mint":
        result = {"pruned": site.prune() if args.prune else None, "count": []}
        for kind, name, count, path in args.request:
            result["count"].append(write_lines(path, site.items(kind, int(count), client(name))))
    elif args.command == "queries":
        result = {"probes": []}
        for kind, method, path, name in args.probe:
            # Bearer tokens are reusable: the same one twice, so the second (counted) request
            # is warm; a cache, when on, then answers it. A DPoP proof is single use: three
            # fresh proofs, all for one token (so the third is warm too).
            if kind in ("bearer", "introspect"):
                requests = site.items(kind, 1, client(name)) * 2
            elif kind == "dpop":
                requests = site.items(kind, 3, client(name), one_token=True)
            else:
                requests = site.items(kind, 3, client(name))
            result["probes"].append(count_queries(method, path, requests))
    elif args.command == "profile":
        site.prune()
        result = {
            kind: profile(
                "POST",
                site.TOKEN_PATH,
                site.items(kind, args.count + 1),
                f"{args.out}/token-{kind}",
            )
            for kind in args.kind
        }
    elif args.command == "openid":
        result = site.openid(args.reps, args.batch)
    else:
        result = getattr(site, args.command)()
    emit(result)
