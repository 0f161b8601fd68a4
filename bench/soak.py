#!/usr/bin/env python3
"""``make soak``: a bounded soak of oauthflow under mixed traffic, then its invariants.

    python3 bench/soak.py                 # 60 s, 8 client threads
    python3 bench/soak.py --seconds 20    # shorter

The oauthflow bench site with sessions (bench/sites/soak_site) runs under gunicorn with 2
sync workers on PostgreSQL, and client threads send a mix of every endpoint's traffic:
the whole code flow through the consent page (GET, then POST Allow with its CSRF token),
code exchanges (now and then the same code twice at once), refreshes (now and then the
same token twice at once, or sent again as after a lost response, which with oauthflow's
defaults is reuse and revokes the family), client_credentials, protected GETs,
introspection, revocation, the metadata and the authorized-apps page.

It fails (exit status 1) on any 5xx, any request that got no answer, a code or a refresh
token that bought two token responses, or the database disagreeing (a family with two
pairs bought with its code, a refresh token rotated twice). It prints request counts,
statuses and p50/p95/p99 latency per kind. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs
from targets import BENCH, Server, Site

REDIRECT_URI = "https://client.example.com/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PORT = 18891
#: The kinds of request that must have been sent (a code flow is authorize, then exchange).
EVERY_KIND = {
    "authorize",
    "exchange",
    "refresh",
    "client_credentials",
    "api",
    "introspect",
    "revoke",
    "metadata",
    "authorized_apps",
}
#: What each client thread does, and how often.
MIX = {
    "code_flow": 3,
    "refresh": 4,
    "refresh_race": 1,
    "refresh_retry": 1,
    "code_race": 1,
    "client_credentials": 3,
    "api": 8,
    "introspect": 3,
    "revoke": 1,
    "metadata": 1,
    "authorized_apps": 1,
}


def _basic(client: dict) -> str:
    raw = f"{client['id']}:{client['secret']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Record:
    """Everything the threads saw, shared under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: list[str] = []
        self.code_wins: Counter[str] = Counter()
        self.refresh_wins: Counter[str] = Counter()
        self.refresh_pool: list[str] = []
        self.access_pool: list[str] = []

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.status[kind][status] += 1
            if status >= 500 or status == 0:
                self.failures.append(f"{kind}: HTTP {status}")

    def take(self, pool: list[str]) -> str | None:
        with self.lock:
            return pool.pop(random.randrange(len(pool))) if pool else None

    def put(self, pool: list[str], value: str) -> None:
        with self.lock:
            pool.append(value)
            if len(pool) > 2000:
                del pool[0]

    def pick(self, pool: list[str]) -> str | None:
        with self.lock:
            return random.choice(pool) if pool else None


class Agent:
    """One client thread: its own keep-alive connection."""

    def __init__(self, port: int, state: dict, record: Record) -> None:
        self.port, self.state, self.record = port, state, record
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.session = random.choice(state["sessions"])
        self.csrf: str | None = None

    def request(
        self, kind: str, method: str, path: str, body: str = "", headers: dict | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = dict(headers or {})
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body or None, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            status, answer_headers = response.status, dict(response.getheaders())
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.record.add(kind, 0, time.perf_counter() - started)
            self.record.failures.append(f"{kind}: {type(exc).__name__}")
            return 0, {}, ""
        self.record.add(kind, status, time.perf_counter() - started)
        return status, answer_headers, text

    def token(self, kind: str, client: dict, form: dict) -> tuple[int, dict]:
        status, _, text = self.request(
            kind,
            "POST",
            "/oauth/token/",
            urlencode(form),
            {**FORM, "Authorization": _basic(client)},
        )
        try:
            return status, json.loads(text) if text else {}
        except ValueError:
            return status, {}

    # The mix ----------------------------------------------------------------------------

    def code_flow(self) -> None:
        code, verifier = self._authorize()
        if code:
            self._exchange("exchange", code, verifier)

    def code_race(self) -> None:
        """The same code sent twice at once, on two connections: at most one success."""
        code, verifier = self._authorize()
        if not code:
            return
        twin = Agent(self.port, self.state, self.record)
        other = threading.Thread(target=twin._exchange, args=("exchange_race", code, verifier))
        other.start()
        self._exchange("exchange_race", code, verifier)
        other.join()
        twin.connection.close()

    def _authorize(self) -> tuple[str | None, str]:
        verifier = secrets.token_urlsafe(48)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.state["clients"]["app"]["id"],
                "redirect_uri": REDIRECT_URI,
                "scope": "read",
                "state": secrets.token_urlsafe(8),
                "code_challenge": _s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        path = f"/oauth/authorize/?{query}"
        cookies = f"sessionid={self.session}" + (f"; csrftoken={self.csrf}" if self.csrf else "")
        status, headers, text = self.request("authorize", "GET", path, headers={"Cookie": cookies})
        if status == 200:  # the consent page: allow it
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
            cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
            if cookie:
                self.csrf = cookie[1]
            if not match or not self.csrf:
                self.record.failures.append("authorize: no CSRF token on the consent page")
                return None, verifier
            status, headers, _ = self.request(
                "allow",
                "POST",
                path,
                urlencode({"decision": "allow", "csrfmiddlewaretoken": match[1]}),
                {**FORM, "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}"},
            )
        if status != 302:
            return None, verifier
        code = parse_qs(urlsplit(headers.get("Location", "")).query).get("code", [None])[0]
        return code, verifier

    def _exchange(self, kind: str, code: str, verifier: str) -> None:
        status, body = self.token(
            kind,
            self.state["clients"]["app"],
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        if status == 200:
            with self.record.lock:
                self.record.code_wins[code] += 1
            self.record.put(self.record.refresh_pool, body["refresh_token"])
            self.record.put(self.record.access_pool, body["access_token"])

    def refresh(self, value: str | None = None, kind: str = "refresh") -> dict | None:
        value = value or self.record.take(self.record.refresh_pool)
        if value is None:
            return None
        status, body = self.token(
            kind,
            self.state["clients"]["app"],
            {"grant_type": "refresh_token", "refresh_token": value},
        )
        if status != 200:
            return None
        with self.record.lock:
            self.record.refresh_wins[value] += 1
        self.record.put(self.record.refresh_pool, body["refresh_token"])
        self.record.put(self.record.access_pool, body["access_token"])
        return body

    def refresh_race(self) -> None:
        value = self.record.take(self.record.refresh_pool)
        if value is None:
            return
        twin = Agent(self.port, self.state, self.record)
        other = threading.Thread(target=twin.refresh, args=(value, "refresh_race"))
        other.start()
        self.refresh(value, "refresh_race")
        other.join()
        twin.connection.close()

    def refresh_retry(self) -> None:
        """Refresh, "lose" the answer, and send the same refresh token again: reuse, with
        oauthflow's defaults (REFRESH_TOKEN_REUSE_GRACE 0), so the family is revoked."""
        value = self.record.take(self.record.refresh_pool)
        if value is None:
            return
        lost = self.refresh(value, "refresh_retry")
        if lost is None:
            return
        with self.record.lock:
            if lost["refresh_token"] in self.record.refresh_pool:
                self.record.refresh_pool.remove(lost["refresh_token"])
        self.refresh(value, "refresh_retry")

    def client_credentials(self) -> None:
        status, body = self.token(
            "client_credentials",
            self.state["clients"]["cc"],
            {"grant_type": "client_credentials", "scope": "read"},
        )
        if status == 200:
            self.record.put(self.record.access_pool, body["access_token"])

    def api(self) -> None:
        value = self.record.pick(self.record.access_pool)
        if value is not None:
            self.request(
                "api", "GET", "/api/protected/", headers={"Authorization": f"Bearer {value}"}
            )

    def introspect(self) -> None:
        value = self.record.pick(self.record.access_pool)
        if value is not None:
            self.request(
                "introspect",
                "POST",
                "/oauth/introspect/",
                urlencode({"token": value}),
                {**FORM, "Authorization": _basic(self.state["clients"]["introspector"])},
            )

    def revoke(self) -> None:
        value = self.record.take(self.record.refresh_pool)
        if value is not None:
            self.request(
                "revoke",
                "POST",
                "/oauth/revoke/",
                urlencode({"token": value, "token_type_hint": "refresh_token"}),
                {**FORM, "Authorization": _basic(self.state["clients"]["app"])},
            )

    def metadata(self) -> None:
        self.request("metadata", "GET", "/.well-known/oauth-authorization-server")

    def authorized_apps(self) -> None:
        self.request(
            "authorized_apps",
            "GET",
            "/oauth/authorized-apps/",
            headers={"Cookie": f"sessionid={self.session}"},
        )


def drive(port: int, state: dict, seconds: float, threads: int) -> Record:
    record = Record()
    actions = [name for name, weight in MIX.items() for _ in range(weight)]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        agent = Agent(port, state, record)
        while time.monotonic() < deadline:
            getattr(agent, random.choice(actions))()
        agent.connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return record


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(record: Record, database: dict, seconds: float) -> bool:
    total = sum(len(v) for v in record.latency.values())
    everything = [x for values in record.latency.values() for x in values]
    print(f"\n{total} requests in {seconds:.0f} s ({total / seconds:.0f}/s)\n")
    print(f"{'kind':<18}{'count':>7}  {'p50 ms':>7}{'p95 ms':>8}{'p99 ms':>8}  statuses")
    for kind in sorted(record.latency):
        values = record.latency[kind]
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(record.status[kind].items()))
        print(
            f"{kind:<18}{len(values):>7}  {percentile(values, 0.5) * 1000:>7.1f}"
            f"{percentile(values, 0.95) * 1000:>8.1f}{percentile(values, 0.99) * 1000:>8.1f}"
            f"  {statuses}"
        )
    print(
        f"{'all':<18}{total:>7}  {percentile(everything, 0.5) * 1000:>7.1f}"
        f"{percentile(everything, 0.95) * 1000:>8.1f}{percentile(everything, 0.99) * 1000:>8.1f}"
    )
    codes_twice = [c for c, n in record.code_wins.items() if n > 1]
    refresh_twice = [t for t, n in record.refresh_wins.items() if n > 1]
    checks = {
        "no 5xx and no request unanswered": not record.failures,
        "each code bought one token response at most": not codes_twice,
        "each refresh token bought one at most": not refresh_twice,
        "database: a family holds one pair bought with its code at most": (
            database["families_with_two_first_pairs"] == 0
        ),
        "database: each refresh token rotated once at most": (
            database["refresh_tokens_rotated_twice"] == 0
        ),
        "traffic reached every endpoint": set(record.latency) >= EVERY_KIND,
    }
    print(f"\ndatabase after: {json.dumps(database)}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    for failure in record.failures[:20]:
        print(f"  {failure}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    envs.ensure_services()
    envs.ensure_venvs()
    out = BENCH / "results" / ("soak-" + time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="oauthflow-soak-"))  # the state holds secrets
    site = Site(
        "soak", "soak_site", envs.OAUTHFLOW_VENV, "bench_oauthflow_soak", work / "state.json"
    )
    print("Recreating the soak database …", flush=True)
    site.recreate_database()
    state = json.loads(site.state.read_text())
    server = Server("soak", site, PORT)
    server.start(out)
    print(f"Soaking for {args.seconds:.0f} s with {args.threads} client threads …", flush=True)
    started = time.monotonic()
    try:
        record = drive(PORT, state, args.seconds, args.threads)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    ok = report(record, site.task("verify"), elapsed)
    print(f"\ngunicorn log: {out.relative_to(BENCH.parent)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
