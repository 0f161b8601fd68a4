#!/usr/bin/env python3
"""``make bench``: oauthflow and django-oauth-toolkit measured side by side in one run.

    python3 bench/run.py            # the full run (about 12 minutes on 2 cores)
    python3 bench/run.py --quick    # a smoke run: 1 short rep, a small "large" table

Prints the table and writes bench/results/<date-time>/ (results.json, table.txt, profiles/,
gunicorn logs). docs/benchmarks.md explains each scenario and how to read the table.
Standard library only: everything Django runs in the bench's own virtualenvs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs
import report
from load import Load, ensure_wrk
from scenarios import SCENARIOS, Bench, in_parallel
from targets import BENCH, WORKERS, Server, Site

FIRST_PORT = 18801
GRANTS = ("authorization_code", "refresh_token", "client_credentials")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, about 3 minutes")
    parser.add_argument("--reps", type=int, help="repetitions of each run (default 3, quick 1)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (4)")
    parser.add_argument("--refresh-venvs", action="store_true", help="remake both virtualenvs")
    parser.add_argument(
        "--only",
        metavar="KEYS",
        help="comma-separated scenarios to run (protected, authorization_code, refresh_token, "
        "client_credentials, introspection, dpop, cleartokens); the others are skipped",
    )
    args = parser.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    args.seconds = args.seconds or (1.0 if args.quick else 3.0)
    args.warmup = 1.0
    large = 20_000 if args.quick else 1_000_000
    args.sizes = {"1k": 1_000, ("20k" if args.quick else "1M"): large}
    args.profile_requests = 50 if args.quick else 200
    # The ID token's in-process cost: rounds of (plain, RS256, ES256) batches of code exchanges.
    args.openid_rounds, args.openid_batch = (5, 20) if args.quick else (15, 40)
    args.known = known = [s.key for s in SCENARIOS] + ["cleartokens"]
    args.only = args.only.split(",") if args.only else known
    if unknown := set(args.only) - set(known):
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {known}")
    return args


def main() -> int:
    args = options()
    started = time.time()
    out = BENCH / "results" / time.strftime("%Y%m%d-%H%M%S")
    (out / "profiles").mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="oauthflow-bench-"))  # request files hold credentials
    print(f"oauthflow bench → {out.relative_to(BENCH.parent)}", flush=True)

    if os.getloadavg()[0] > 1.0:
        print(f"Note: load average {os.getloadavg()[0]:.1f} before the run: numbers will be noisy.")
    envs.ensure_services()
    envs.ensure_venvs(refresh=args.refresh_venvs)
    load = Load(ensure_wrk(), connections=args.connections)
    sizes = list(args.sizes)
    small, large = sizes[0], sizes[-1]
    sites = _sites(out, sizes)
    print("Recreating the bench databases …", flush=True)
    setup = {key: site.recreate_database() for key, site in sites.items()}
    for key in ("django", "djangorestframework"):
        if setup["oauthflow", small][key] != setup["dot", small][key]:
            raise SystemExit(f"{key} differs between the two virtualenvs: {setup}")
    found = sites["oauthflow", small].task("capabilities")
    capabilities = {
        "protection": found["resource_protection"],
        "cleartokens": found["cleartokens"],
        "openid": found.get("openid", False),
        "jwt": found.get("jwt", False),
        "dpop": found.get("dpop", False),
    }
    servers = _servers(sites, sizes, with_cache=capabilities["protection"])
    results: dict = {}
    try:
        for server in servers.values():
            _check_port_free(server.port)
            server.start(out)
        introspect = servers["oauthflow", small].status("/oauth/introspect/", "POST")
        capabilities["introspection"] = introspect != 404
        skipped = _skip_messages(capabilities)
        skipped += [f"{key}: not selected (--only)" for key in args.known if key not in args.only]
        for message in skipped:
            print(f"SKIP {message}", flush=True)
        print(f"Filling the token tables: {args.sizes} rows … ({_clock(started)})", flush=True)
        rows = _fill(sites, args.sizes)
        bench = Bench(
            sites, servers, load, capabilities, work,
            sizes=sizes, seconds=args.seconds, warmup=args.warmup, reps=args.reps,
        )  # fmt: skip
        for scenario in SCENARIOS:
            if scenario.key in args.only and not bench.missing(scenario.needs):
                print(f"{scenario.title} … ({_clock(started)})", flush=True)
                bench.measure(scenario)
        print(f"Counting queries per request … ({_clock(started)})", flush=True)
        queries = bench.queries()
        openid = None
        if capabilities["openid"] and "authorization_code" in args.only:
            print(f"In-process cost of the ID token … ({_clock(started)})", flush=True)
            openid = sites["oauthflow", small].task(
                "openid", "--reps", str(args.openid_rounds), "--batch", str(args.openid_batch)
            )
        print(f"Profiling the token endpoint … ({_clock(started)})", flush=True)
        profiles = _profiles(sites["oauthflow", small], out / "profiles", args.profile_requests)
        costs = None
        if capabilities["protection"] and "protected" in args.only:
            print(f"In-process costs of the bearer check … ({_clock(started)})", flush=True)
            costs = sites["oauthflow", small].task("costs")
        jwt_costs = None
        if capabilities["jwt"] and "protected" in args.only:
            print(f"In-process costs of the JWT check … ({_clock(started)})", flush=True)
            jwt_costs = sites["oauthflow", small].task("jwt_costs")
        dpop_costs = None
        if capabilities["dpop"] and "dpop" in args.only:
            print(f"In-process costs of the DPoP proof check … ({_clock(started)})", flush=True)
            dpop_costs = sites["oauthflow", small].task("dpop_costs")
        cleartokens = None
        if capabilities["cleartokens"] and "cleartokens" in args.only:
            print(f"oauthflow_cleartokens, {large} tables … ({_clock(started)})", flush=True)
            cleartokens = _cleartokens(bench, large)
        results = {
            "meta": {
                "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
                "mode": "quick" if args.quick else "full",
                "reps": args.reps,
                "seconds": args.seconds,
                "connections": args.connections,
                "generator": load.generator,
                "cores": os.cpu_count(),
                "workers": WORKERS,
                "versions": envs.versions(),
                "capabilities": capabilities,
            },
            "sizes": sizes,
            "rows": rows,
            "titles": {s.key: s.title for s in SCENARIOS},
            "runs": bench.runs,
            "queries": queries,
            "profiles": profiles,
            "costs": costs,
            "jwt_costs": jwt_costs,
            "dpop_costs": dpop_costs,
            "openid": openid,
            "cleartokens": cleartokens,
            "skipped": skipped,
        }
        results["targets"] = report.evaluate(results)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report.write(results, out)
    print()
    print(report.table(results))
    print(f"\nResults: {out.relative_to(BENCH.parent)} ({time.time() - started:.0f} s)")
    return 0


def _sites(out: Path, sizes: list[str]) -> dict[tuple[str, str], Site]:
    """Each provider's site once per table size, each with its own database."""
    sites = {}
    for size in sizes:
        sites["oauthflow", size] = Site(
            "oauthflow",
            "oauthflow_site",
            envs.OAUTHFLOW_VENV,
            f"bench_oauthflow_{size}".lower(),
            out / f"oauthflow-{size}-state.json",
        )
        sites["dot", size] = Site(
            "dot",
            "dot_site",
            envs.DOT_VENV,
            f"bench_dot_{size}".lower(),
            out / f"dot-{size}-state.json",
            {"OAUTHLIB_INSECURE_TRANSPORT": "1"},  # DOT refuses plain http otherwise
        )
    return sites  # fmt: skip


def _servers(sites, sizes: list[str], *, with_cache: bool) -> dict[tuple[str, str], Server]:
    """gunicorn for every site; for oauthflow a second one with the Redis token cache on."""
    servers = {}
    port = iter(range(FIRST_PORT, FIRST_PORT + 100))
    for size in sizes:
        for name, site, env in (
            ("oauthflow", "oauthflow", {}),
            ("oauthflow-cache", "oauthflow", {"BENCH_TOKEN_CACHE": "1"}),
            ("dot", "dot", {}),
        ):
            if name != "oauthflow-cache" or with_cache:
                servers[name, size] = Server(f"{name}-{size}", sites[site, size], next(port), env)
    return servers


def _skip_messages(capabilities: dict[str, bool]) -> list[str]:
    messages = []
    if not capabilities["protection"]:
        messages.append(
            "protected GET, oauthflow rows: oauthflow.rest_framework (OAuth2Authentication, "
            "TokenHasScope) is not in this checkout; the references still run"
        )
    if not capabilities["introspection"]:
        messages.append("introspection: /oauth/introspect/ answers 404 in this checkout")
    if not capabilities["openid"]:
        messages.append(
            "authorization_code, openid RS256/ES256 and the ID token's cost: oauthflow.oidc "
            "is not in this checkout"
        )
    if not capabilities["jwt"]:
        messages.append(
            "JWT access tokens (the jwt variants, their targets and in-process costs): "
            "oauthflow.formats.jwt or oauthflow.models.Resource is not in this checkout"
        )
    if not capabilities["dpop"]:
        messages.append(
            "dpop (the protected GET with DPoP-bound tokens and the proof check's costs): "
            "oauthflow.dpop or oauthflow.rest_framework is not in this checkout"
        )
    if not capabilities["cleartokens"]:
        messages.append("cleartokens: the oauthflow_cleartokens command is not in this checkout")
    return messages


def _fill(sites: dict[tuple[str, str], Site], sizes: dict[str, int]) -> dict:
    """Every database filled to its size, two at a time."""
    counts: dict = defaultdict(dict)

    def fill(key: tuple[str, str]) -> None:
        counts[key[1]][key[0]] = sites[key].task("fill", "--rows", str(sizes[key[1]]))["rows"]

    in_parallel(fill, list(sites))
    return dict(counts)


def _profiles(site: Site, out: Path, count: int) -> dict:
    kinds = [arg for grant in GRANTS for arg in ("--kind", grant)]
    return site.task("profile", *kinds, "--count", str(count), "--out", str(out))


def _cleartokens(bench: Bench, size: str) -> dict:
    """Time the command on the large size's expired rows while paced protected GETs run."""
    protected = next(
        v
        for v in SCENARIOS[0].variants
        if v.name == ("oauthflow" if bench.capabilities["protection"] else "hand lookup")
    )
    site, server = bench.sites["oauthflow", size], bench.servers["oauthflow", size]
    pool = str(bench.work / "cleartokens-pool")
    site.task("mint", "--prune", "--request", "bearer", "-", "2000", pool)
    paced = Load(bench.load.wrk, connections=2, delay_ms=10)  # at most ~200 requests/s
    baseline = paced.run(server.url(protected.path), "GET", pool, 5, wrap=True)
    background = paced.start(server.url(protected.path), "GET", pool, 600, wrap=True)
    try:
        result = site.task("cleartokens")
    finally:
        during = background.finish()
    return {"view": protected.name, "baseline": baseline, "during": during, **result}


def _clock(started: float) -> str:
    return f"{time.time() - started:.0f} s"


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"Port {port} is in use; stop what listens there and run again.")


if __name__ == "__main__":
    sys.exit(main())
