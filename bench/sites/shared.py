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
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

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


def write_lines(path: str, items: Iterable[tuple[str, str]]) -> int:
    """One request a line: ``<Authorization header>\\t<form body>`` (walk.lua reads these)."""
    count = 0
    with open(path, "w") as out:
        for auth, body in items:
            out.write(f"{auth}\t{body}\n")
            count += 1
    return count


def emit(result: dict) -> None:
    print("BENCH_RESULT " + json.dumps(result, default=str), flush=True)


def load_state() -> dict:
    path = Path(os.environ["BENCH_STATE"])
    return json.loads(path.read_text()) if path.exists() else {}


def save_state(state: dict) -> None:
    Path(os.environ["BENCH_STATE"]).write_text(json.dumps(state))


# In-process requests (query counts and profiles) ----------------------------------------


def _sender(method: str, path: str) -> Callable[[str, str], object]:
    from django.test import Client

    http = Client(HTTP_HOST="127.0.0.1")

    def send(auth: str, body: str):
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        if method == "POST":
            return http.post(path, body, content_type=FORM, **headers)
        return http.get(path, **headers)

    return send


_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def count_queries(method: str, path: str, items: list[tuple[str, str]]) -> dict:
    """Queries of one warm request: every item but the last warms up, the last is counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send = _sender(method, path)
    for auth, body in items[:-1]:
        send(auth, body)
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


def profile(method: str, path: str, items: list[tuple[str, str]], out_prefix: str) -> dict:
    """Profile ``items`` sent in-process with pyinstrument; keep HTML and text, sum self time."""
    from pyinstrument import Profiler

    send = _sender(method, path)
    send(*items[0])  # imports and first-request set-up are not what we want to see
    profiler = Profiler(interval=0.001)
    statuses: dict[int, int] = defaultdict(int)
    started = time.perf_counter()
    with profiler:
        for auth, body in items[1:]:
            statuses[send(auth, body).status_code] += 1
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


def main(commands: dict[str, Callable], arguments: dict[str, list[tuple]]) -> None:
    """Dispatch ``python -m <site>.tasks NAME --option value`` to ``commands[NAME]``."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in commands:
        command = sub.add_parser(name)
        for flag, kwargs in arguments.get(name, []):
            command.add_argument(flag, **kwargs)
    args = vars(parser.parse_args())
    result = commands[args.pop("command")](**args)
    emit(result if result is not None else {})
    sys.stdout.flush()
