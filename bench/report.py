"""Turning runs into the table: medians, ratios within each repetition, targets, JSON."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

#: The protected GET's JWT access token variants held to the issue's targets.
JWT_PROTECTED = ("oauthflow jwt", "oauthflow jwt client")
#: (scenario, numerator, denominator, minimum ratio). Ratios are throughput ratios.
RATIO_TARGETS = [
    ("protected", "oauthflow", "hand lookup", 0.9),
    # 3x was above what any database-backed check reaches here (see the bounds); the
    # target in force is 1.5x.
    ("protected", "oauthflow", "dot", 1.5),
    ("protected", "oauthflow+cache", "oauthflow", 1.0),  # "no slower than the database path"
    *[
        (grant, "oauthflow", reference, minimum)
        for grant in ("authorization_code", "refresh_token", "client_credentials")
        for reference, minimum in (("dot", 10.0), ("dot hasher off", 1.5))
    ],
    # The issue asks >= 2x django-oauth-toolkit as users run it; the hasher-off ratio is
    # still printed in the table, for information.
    ("introspection", "oauthflow", "dot", 2.0),
    # JWT access tokens (RFC 9068) verified locally (#14): a user's token on the same view
    # (which reads request.user) and the client's own token (no user to load).
    *[
        ("protected", variant, reference, minimum)
        for variant in JWT_PROTECTED
        for reference, minimum in (("unprotected", 0.8), ("dot", 3.0))
    ],
    ("client_credentials", "oauthflow jwt", "dot hasher off", 3.0),
]
#: (scenario, variant, most queries per request).
QUERY_BUDGETS = [
    ("protected", "oauthflow", 1),
    ("protected", "oauthflow+cache", 0),
    ("authorization_code", "oauthflow", 5),
    ("refresh_token", "oauthflow", 6),
    ("protected", "oauthflow jwt", 0),
    ("protected", "oauthflow jwt+cache", 0),
    ("protected", "oauthflow jwt client", 0),
]
#: (scenario, variant, reference, most queries per request above the reference's).
QUERY_DELTAS = [
    ("authorization_code", "openid RS256", "oauthflow", 1),
    ("authorization_code", "openid ES256", "oauthflow", 1),
    # DPoP's replay check is one write: an INSERT with the database store, none with the
    # cache store (a cache add, counted by the dpop_costs task: DPOP_WRITES below).
    ("dpop", "oauthflow dpop", "oauthflow", 1),
    ("dpop", "oauthflow dpop+cache", "oauthflow+cache", 0),
]
#: Writes the DPoP replay check makes per request, whatever the store (RFC 9449 §11.1: one
#: atomic add or INSERT), counted in-process by the dpop_costs task: at most this, and not
#: none (that would mean the proof was not recorded).
DPOP_WRITES = 1
#: (bearer variant, its DPoP variant) of the dpop scenario, compared under its rows.
DPOP_PAIRS = (("oauthflow", "oauthflow dpop"), ("oauthflow+cache", "oauthflow dpop+cache"))
#: What the ID token may add to a code exchange, in ms per request, measured in-process
#: (run.py's "openid" step: openid - plain, median of the per-round differences).
OPENID_ADDED_MS = 1.0
OPENID_ALGS = ("RS256", "ES256")
#: (scenario, variant, reference, what the variant is): not targets but bounds measured in
#: the same run, printed so a target can be read against what any implementation of that
#: kind could reach on this machine.
BOUNDS = [
    ("protected", "unprotected", "dot", "no check at all: the ceiling of any check"),
    ("protected", "one round trip", "dot", "one SELECT 1 only: any check asking the database"),
    ("client_credentials", "hand endpoint", "dot hasher off", "one SELECT + one INSERT by hand"),
    (
        "protected",
        "one round trip",
        "unprotected",
        "one SELECT 1 only: any check asking the database, e.g. for the user",
    ),
    ("protected", "hand jwt", "unprotected", "an RS256 check by hand, no user: any JWT check"),
    ("protected", "hand jwt", "dot", "an RS256 check by hand, no user: any JWT check"),
    (
        "client_credentials",
        "hand jwt endpoint",
        "dot hasher off",
        "the two statements and an RS256 signature by hand",
    ),
]
VW = 21  # the variant column's width
SIZE_TOLERANCE = 0.10  # 1M vs 1k: "the same" means within 10 %
CLEARTOKENS_LIMIT = 60.0


def rates(runs: list[dict], scenario: str, size: str, variant: str) -> list[float]:
    return [
        r["rate"]
        for r in sorted(runs, key=lambda r: r["rep"])
        if (r["scenario"], r["size"], r["variant"]) == (scenario, size, variant)
    ]


def ratio_within_reps(runs, scenario, size, numerator, denominator) -> list[float]:
    top, bottom = rates(runs, scenario, size, numerator), rates(runs, scenario, size, denominator)
    return [a / b for a, b in zip(top, bottom, strict=False) if b > 0]


def evaluate(results: dict) -> list[dict]:
    """Every target with its measured value and PASS, FAIL or SKIP (never a guess)."""
    runs, sizes, verdicts = results["runs"], results["sizes"], []
    for scenario, top, bottom, minimum in RATIO_TARGETS:
        for size in sizes:
            per_rep = ratio_within_reps(runs, scenario, size, top, bottom)
            verdicts.append(
                {
                    "target": f"{scenario}: {top} / {bottom} >= {minimum:g}x",
                    "size": size,
                    "value": statistics.median(per_rep) if per_rep else None,
                    "per_rep": per_rep,
                    "result": _verdict(per_rep and statistics.median(per_rep) >= minimum, per_rep),
                }
            )
    for scenario, variant, budget in QUERY_BUDGETS:
        counted = results["queries"].get(scenario, {}).get(variant)
        value = counted["queries"] if counted else None
        verdicts.append(
            {
                "target": f"{scenario}: {variant} queries <= {budget}",
                "size": sizes[0],
                "value": value,
                "result": _verdict(value is not None and value <= budget, counted),
            }
        )
    for scenario, variant, reference, most in QUERY_DELTAS:
        counted = results["queries"].get(scenario, {})
        top, bottom = counted.get(variant), counted.get(reference)
        value = top["queries"] - bottom["queries"] if top and bottom else None
        answered = bool(top and bottom and top["status"] == bottom["status"] == 200)
        verdicts.append(
            {
                "target": f"{scenario}: {variant} queries - {reference} <= {most}",
                "size": sizes[0],
                "value": value,
                "result": _verdict(value is not None and value <= most and answered, value),
            }
        )
    openid = results.get("openid") or {}
    for alg in OPENID_ALGS:
        measured = openid.get(alg)
        value = measured["added_ms"] if measured else None
        verdicts.append(
            {
                "target": f"authorization_code: openid {alg} - oauthflow < {OPENID_ADDED_MS:g} ms",
                "size": sizes[0],
                "value": value,
                "per_rep": measured["per_rep_added_ms"] if measured else [],
                "result": _verdict(
                    value is not None and value < OPENID_ADDED_MS and _id_tokens_seen(openid, alg),
                    value,
                ),
            }
        )
    for store, counted in ((results.get("dpop_costs") or {}).get("writes") or {}).items():
        value = counted["replay_writes_max"]
        replayed = counted["replayed"]
        verdicts.append(
            {
                "target": f"dpop: replay writes per request = {DPOP_WRITES} ({store})",
                "size": sizes[0],
                "value": value,
                "result": _verdict(
                    0 < value <= DPOP_WRITES
                    and set(counted["statuses"]) == {"200"}
                    and replayed["status"] == 401
                    and replayed["replay_writes"] <= DPOP_WRITES,
                    value,
                ),
            }
        )
    verdicts += _size_verdicts(runs, sizes)
    clear = results.get("cleartokens") or {}
    verdicts.append(
        {
            "target": f"oauthflow_cleartokens < {CLEARTOKENS_LIMIT:g} s, requests served",
            "size": sizes[-1],
            "value": clear.get("seconds"),
            "result": _verdict(
                clear.get("seconds") is not None
                and clear["seconds"] < CLEARTOKENS_LIMIT
                and clear["during"]["requests"] > 0
                and clear["during"]["status_errors"] + clear["during"]["socket_errors"] == 0,
                clear.get("seconds"),
            ),
        }
    )
    return verdicts


def _id_tokens_seen(openid: dict, alg: str) -> bool:
    """Every exchange of the in-process measurement answered 200, each openid one with an
    ID token signed with ``alg`` and each plain one without: it measured what it says."""
    statuses, algs = openid["statuses"], openid["id_token_alg"]
    return (
        set(statuses[alg]) == {"200"}
        and set(statuses["plain"]) == {"200"}
        and set(algs[alg]) == {alg}
        and set(algs["plain"]) == {"-"}
    )


def openid_http_ms(runs: list[dict], size: str, variant: str, workers: int) -> list[float]:
    """What an openid variant adds over plain oauthflow in the HTTP runs, per rep: ms a
    worker spends per request (workers / req/s, both workers busy under wrk's 4
    connections), openid - plain. Under load, so CPU shared with wrk and PostgreSQL."""
    top = rates(runs, "authorization_code", size, variant)
    bottom = rates(runs, "authorization_code", size, "oauthflow")
    return [1000 * workers * (1 / a - 1 / b) for a, b in zip(top, bottom, strict=False) if a and b]


def _size_verdicts(runs: list[dict], sizes: list[str]) -> list[dict]:
    """oauthflow's rate with large tables over its rate with small ones, paired by rep (the
    sizes run side by side): "the same" means the median is within SIZE_TOLERANCE of 1."""
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    verdicts = []
    for scenario in dict.fromkeys(r["scenario"] for r in runs):
        if scenario == "dpop":  # its bearer rows are the protected GET's, which has this row
            continue
        for variant in ("oauthflow", "oauthflow+cache"):
            a, b = rates(runs, scenario, small, variant), rates(runs, scenario, large, variant)
            per_rep = [y / x for x, y in zip(a, b, strict=False) if x > 0]
            if not per_rep:
                continue
            value = statistics.median(per_rep)
            verdicts.append(
                {
                    "target": f"{scenario}: {variant} {large} / {small} = 1 ± {SIZE_TOLERANCE:g}",
                    "size": f"{small}->{large}",
                    "value": value,
                    "per_rep": per_rep,
                    "result": "PASS" if abs(value - 1) <= SIZE_TOLERANCE else "FAIL",
                }
            )
    return verdicts


def _verdict(passed, measured) -> str:
    if measured is None or measured == []:
        return "SKIP"
    return "PASS" if passed else "FAIL"


# Printing -------------------------------------------------------------------------------


def table(results: dict) -> str:
    runs, sizes, queries = results["runs"], results["sizes"], results["queries"]
    meta = results["meta"]
    lines = [
        f"oauthflow bench {meta['started']}  ({meta['mode']}: {meta['reps']} reps x "
        f"{meta['seconds']:g} s, interleaved; {meta['generator']} -c{meta['connections']}; "
        f"gunicorn 2 sync workers; {meta['cores']} cores)",
        "versions: " + "; ".join(f"{s}: {v}" for s, v in meta["versions"].items()),
        *_rows(results["rows"]),
        "",
        f"{'scenario':<32}{'variant':<{VW}}{'q/req':>6}"
        + "".join(f"{'req/s ' + s:>13}{'x ref ' + s:>11}" for s in sizes),
    ]
    for scenario in dict.fromkeys(r["scenario"] for r in runs):
        title = results["titles"].get(scenario, scenario)
        variants = list(dict.fromkeys(r["variant"] for r in runs if r["scenario"] == scenario))
        reference = _reference(scenario, variants)
        for i, variant in enumerate(variants):
            counted = queries.get(scenario, {}).get(variant)
            row = f"{title if i == 0 else '':<32}{variant:<{VW}}"
            row += f"{counted['queries'] if counted else '-':>6}"
            for size in sizes:
                values = rates(runs, scenario, size, variant)
                median = statistics.median(values) if values else float("nan")
                flag = "!" if _problems(runs, scenario, size, variant) else " "
                per_rep = ratio_within_reps(runs, scenario, size, "oauthflow", variant)
                ratio = f"{statistics.median(per_rep):.2f}" if per_rep else "-"
                if variant == reference or variant.startswith("oauthflow"):
                    ratio = ""
                row += f"{median:12.1f}{flag}{ratio:>11}"
            lines.append(row)
        if scenario == "authorization_code":
            lines += _openid_lines(results, variants)
        if scenario == "protected":
            lines += _revocation_lines(results, variants)
        if scenario == "dpop":
            lines += _dpop_lines(results, variants)
        lines.append("")
    lines.append("x ref = oauthflow's throughput / this variant's (median of per-rep ratios)")
    lines.append("! = a run of this cell had HTTP errors, socket errors or ran out of credentials")
    if any(r["variant"] == "oauthflow jwt+cache" for r in runs):
        lines.append(
            "cache read adds = oauthflow jwt+cache - oauthflow jwt, same run: worker ms per "
            f"request ({results['meta'].get('workers', 2)} workers / req/s, median of per-rep "
            "differences) and x = jwt+cache req/s / jwt req/s"
        )
    if any(r["scenario"] == "dpop" for r in runs):
        lines.append(
            "DPoP adds = oauthflow dpop - oauthflow (Bearer), same view and server, same run: "
            f"worker ms per request ({results['meta'].get('workers', 2)} workers / req/s, "
            "median of per-rep differences) and x = dpop req/s / bearer req/s"
        )
    if results.get("openid") or any(r["variant"].startswith("openid ") for r in runs):
        lines.append(
            "ID token adds = openid - oauthflow, same run: +q queries per exchange; in-process "
            "ms per request (the target) and x plain, medians of per-round values; HTTP ms = "
            f"{results['meta'].get('workers', 2)} workers / req/s, median of per-rep differences"
        )
    lines += ["", f"{'target':<58}{'size':<10}{'measured':>10}  result  per rep"]
    for v in results["targets"]:
        value = v["value"]
        shown = "-" if value is None else (f"{value:.2f}" if isinstance(value, float) else value)
        per_rep = " ".join(f"{x:.2f}" for x in v.get("per_rep") or [])
        lines.append(f"{v['target']:<58}{v['size']:<10}{shown:>10}  {v['result']:<6}  {per_rep}")
    lines += _bounds(results)
    openid = results.get("openid")
    if openid:
        lines += [
            "",
            f"ID token, in-process ({openid['reps']} rounds of plain, RS256 and ES256 batches "
            f"of {openid['batch']} code exchanges, one at a time):",
            "  ms/request "
            + ", ".join(f"{n} {ms:.2f}" for n, ms in openid["ms_per_request"].items())
            + " (medians); least round against least round: "
            + ", ".join(f"{alg} {openid[alg]['added_ms_least']:+.2f} ms" for alg in OPENID_ALGS),
            "  the ID token's parts, µs (least of 15 batches of 100 calls):",
        ]
        lines += [f"    {us:>6}  {name}" for name, us in openid["parts_us"].items()]
    if results.get("costs"):
        lines += ["", "bearer check, in-process µs (least of 15 batches of 300 calls):"]
        lines += [f"  {us:>6}  {name}" for name, us in results["costs"].items()]
    jwt = results.get("jwt_costs")
    if jwt:
        lines += [
            "",
            "JWT access token check, in-process µs (least of 15 batches of 300 calls; the "
            f"token endpoint signs {jwt['endpoint_alg']}; the ES256 token is signed by the "
            'format\'s generate(alg="ES256"); accepted: '
            + ", ".join(f"{alg} {kind}" for alg, kind in jwt["accepted"].items())
            + "):",
        ]
        lines += [f"  {us:>7.1f}  {name}" for name, us in jwt["us"].items()]
    lines += _dpop_cost_lines(results.get("dpop_costs"))
    clear = results.get("cleartokens")
    if clear and "seconds" in clear:
        lines += ["", _cleartokens_line(clear)]
    if results["skipped"]:
        lines += ["", "skipped:"] + [f"  - {s}" for s in results["skipped"]]
    for grant, prof in results.get("profiles", {}).items():
        top = ", ".join(f"{name} {share}%" for name, share in list(prof["by_package"].items())[:4])
        lines.append(f"profile {grant}: {prof['ms_per_request']:.1f} ms/request in-process; {top}")
    return "\n".join(lines)


def _openid_lines(results: dict, variants: list[str]) -> list[str]:
    """Under the code exchange's rows: what each openid variant adds to plain oauthflow in
    this run, in-process (the target) and over HTTP, and its queries."""
    openid = results.get("openid") or {}
    measured = [v for v in variants if v.startswith("openid ")]
    if not measured and not openid:
        return []
    queries = results["queries"].get("authorization_code", {})
    workers = results["meta"].get("workers", 2)
    lines = [
        f"{'':<32}{'ID token adds':<{VW}}{'+q':>6}{'in-process ms':>15}{'x plain':>9}"
        + "".join(f"{'HTTP ms ' + s:>13}" for s in results["sizes"])
    ]
    for alg in OPENID_ALGS:
        name = f"openid {alg}"
        top, bottom = queries.get(name), queries.get("oauthflow")
        delta = f"{top['queries'] - bottom['queries']:+d}" if top and bottom else "-"
        inproc = openid.get(alg)
        row = f"{'':<32}{name:<{VW}}{delta:>6}"
        if inproc:
            row += f"{inproc['added_ms']:+15.2f}{inproc['ratio']:9.2f}"
        else:
            row += f"{'-':>15}{'-':>9}"
        for size in results["sizes"]:
            http = openid_http_ms(results["runs"], size, name, workers)
            row += f"{statistics.median(http):+13.2f}" if http else f"{'-':>13}"
        lines.append(row)
    return lines


def _revocation_lines(results: dict, variants: list[str]) -> list[str]:
    """Under the protected GET's rows: what the revocation check (TOKEN_CACHE on: one
    cache read per request) costs a JWT access token over HTTP, same run: jwt+cache over
    jwt (throughput) and the added worker time per request, per size."""
    top, bottom = "oauthflow jwt+cache", "oauthflow jwt"
    if top not in variants or bottom not in variants:
        return []
    workers = results["meta"].get("workers", 2)
    row = f"{'':<32}{'cache read adds':<{VW}}{'':>6}"
    for size in results["sizes"]:
        ratio = ratio_within_reps(results["runs"], "protected", size, top, bottom)
        a = rates(results["runs"], "protected", size, top)
        b = rates(results["runs"], "protected", size, bottom)
        ms = [1000 * workers * (1 / x - 1 / y) for x, y in zip(a, b, strict=False) if x and y]
        cell = f"{statistics.median(ms):+.2f} ms" if ms else "-"
        shown = f"x{statistics.median(ratio):.2f}" if ratio else "-"
        row += f"{cell:>13}{shown:>11}"
    return [row]


def _dpop_lines(results: dict, variants: list[str]) -> list[str]:
    """Under the dpop scenario's rows: what DPoP (a fresh proof per request, its replay
    check) adds to the same view with Bearer tokens, same server, same run: the added
    worker time per request and the throughput ratio, per size."""
    workers = results["meta"].get("workers", 2)
    lines = []
    for bearer, dpop in DPOP_PAIRS:
        if bearer not in variants or dpop not in variants:
            continue
        row = f"{'':<32}{_dpop_pair_name(dpop):<{VW}}{'':>6}"
        for size in results["sizes"]:
            ratio = ratio_within_reps(results["runs"], "dpop", size, dpop, bearer)
            a = rates(results["runs"], "dpop", size, dpop)
            b = rates(results["runs"], "dpop", size, bearer)
            ms = [1000 * workers * (1 / x - 1 / y) for x, y in zip(a, b, strict=False) if x and y]
            cell = f"{statistics.median(ms):+.2f} ms" if ms else "-"
            shown = f"x{statistics.median(ratio):.2f}" if ratio else "-"
            row += f"{cell:>13}{shown:>11}"
        lines.append(row)
    return lines


def _dpop_pair_name(dpop: str) -> str:
    return "DPoP adds (cache)" if dpop.endswith("+cache") else "DPoP adds (db)"


def _dpop_cost_lines(costs: dict | None) -> list[str]:
    """The dpop_costs task's answer: the proof check's µs, and the replay store's writes."""
    if not costs:
        return []
    lines = [
        "",
        f"DPoP proof check, in-process µs (least of {costs['rounds']} batches of "
        f"{costs['batch']} calls, each call a new pre-made proof; the replay store included "
        "unless stubbed; GET: the protected view through the site, django.test.Client):",
    ]
    lines += [f"  {us:>7.1f}  {name}" for name, us in costs["us"].items()]
    lines.append(
        "DPoP replay store writes per request, in-process (protected GETs through the site, "
        "a fresh proof each, a warm token; then the last proof again):"
    )
    for store, w in costs["writes"].items():
        replayed = w["replayed"]
        lines.append(
            f"  {store}: {w['replay_writes_max']} write(s) per request at most "
            f"({w['usedproof_inserts_max']} INSERT into oauthflow_dpop_usedproof, "
            f"{w['replay_cache_writes_max']} cache write on a replay key; "
            f"{w['replay_writes_total']} in {w['requests']} requests, statuses "
            f"{w['statuses']}), {w['queries_max']} queries, other cache writes "
            f"{w['other_cache_writes_max']}, cache calls {w['cache_calls'] or '{}'}; "
            f"replayed: HTTP {replayed['status']}, {replayed['replay_writes']} write(s)"
        )
    return lines


def _bounds(results: dict) -> list[str]:
    lines = []
    for scenario, variant, reference, meaning in BOUNDS:
        for size in results["sizes"]:
            per_rep = ratio_within_reps(results["runs"], scenario, size, variant, reference)
            if per_rep:
                lines.append(
                    f"{scenario}: {variant} / {reference} ({meaning}) at {size}: "
                    f"{statistics.median(per_rep):.2f}  ("
                    + " ".join(f"{x:.2f}" for x in per_rep)
                    + ")"
                )
    return ["", "bounds, same run (not targets):", *lines] if lines else []


def _rows(rows: dict) -> list[str]:
    """Rows in each token table when a size's runs began (filler, plus what earlier runs left)."""
    return [
        f"rows at {size}: "
        + "; ".join(
            f"{site} " + " ".join(f"{table.split('_')[-1]} {n:,}" for table, n in tables.items())
            for site, tables in sites.items()
        )
        for size, sites in rows.items()
    ]


def _reference(scenario: str, variants: list[str]) -> str:
    return "oauthflow" if "oauthflow" in variants else variants[0]


def _problems(runs, scenario, size, variant) -> bool:
    return any(
        r["status_errors"] or r["socket_errors"] or r["timeouts"] or r["exhausted_threads"]
        for r in runs
        if (r["scenario"], r["size"], r["variant"]) == (scenario, size, variant)
    )


def _cleartokens_line(clear: dict) -> str:
    base, during = clear["baseline"]["latency_us"], clear["during"]["latency_us"]
    removed = sum(clear["before"].values()) - sum(clear["after"].values())
    return (
        f"cleartokens: {clear['seconds']:.1f} s, {removed:,} rows removed; {clear['view']} GET "
        f"p50/p99 {base['p50'] / 1000:.1f}/{base['p99'] / 1000:.1f} ms before, "
        f"{during['p50'] / 1000:.1f}/{during['p99'] / 1000:.1f} ms during "
        f"({clear['during']['requests']} requests, "
        f"{clear['during']['status_errors'] + clear['during']['socket_errors']} errors)"
    )


def write(results: dict, out: Path) -> Path:
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    (out / "table.txt").write_text(table(results) + "\n")
    return path
