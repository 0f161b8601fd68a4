"""What is measured: each scenario, its variants (oauthflow and its references), and the
interleaved runs (A B C A B C …) that measure them."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from load import Load
from targets import Server, Site

TOKEN = {"oauthflow": "/oauth/token/", "dot": "/o/token/"}


@dataclass(frozen=True)
class Variant:
    name: str  # as printed
    server: str  # which gunicorn serves it
    method: str
    path: str
    kind: str  # what the site mints for it (see the sites' tasks.items)
    client: str | None = None  # DOT: the "default" (hashed) or "hasher-off" application
    needs: str | None = None  # a capability of this checkout, else the variant is skipped

    @property
    def site(self) -> str:
        return "dot" if self.server == "dot" else "oauthflow"

    @property
    def single_use(self) -> bool:
        return self.kind in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    variants: tuple[Variant, ...]
    needs: str | None = None  # when missing, the whole scenario is skipped


def _token_scenario(grant: str, title: str) -> Scenario:
    return Scenario(
        grant,
        title,
        (
            Variant("oauthflow", "oauthflow", "POST", TOKEN["oauthflow"], grant),
            Variant("dot", "dot", "POST", TOKEN["dot"], grant, client="default"),
            Variant("dot hasher off", "dot", "POST", TOKEN["dot"], grant, client="hasher-off"),
        ),
    )


SCENARIOS = (
    Scenario(
        "protected",
        "protected DRF GET",
        (
            Variant("unprotected", "oauthflow", "GET", "/api/open/", "bearer"),
            Variant("hand lookup", "oauthflow", "GET", "/api/hand/", "bearer"),
            Variant(
                "oauthflow", "oauthflow", "GET", "/api/protected/", "bearer", needs="protection"
            ),
            Variant(
                "oauthflow+cache",
                "oauthflow-cache",
                "GET",
                "/api/protected/",
                "bearer",
                needs="protection",
            ),
            Variant("dot", "dot", "GET", "/api/protected/", "bearer", client="default"),
        ),
    ),
    _token_scenario("authorization_code", "token: authorization_code+PKCE"),
    _token_scenario("refresh_token", "token: refresh_token (rotation)"),
    _token_scenario("client_credentials", "token: client_credentials"),
    Scenario(
        "introspection",
        "introspection",
        (
            Variant("oauthflow", "oauthflow", "POST", "/oauth/introspect/", "introspect"),
            Variant("dot", "dot", "POST", "/o/introspect/", "introspect", client="default"),
            Variant(
                "dot hasher off", "dot", "POST", "/o/introspect/", "introspect", client="hasher-off"
            ),
        ),
        needs="introspection",
    ),
)

POOL = 2000  # distinct reusable credentials (access tokens) cycled through in a run
WARMUP_GUESS = 400  # requests per second assumed when minting single-use warm-up files
MIN_REQUESTS = 12  # a run of a slow variant lasts until about this many requests complete…
SLOW_CAP = 10.0  # …but at most this many seconds


class Bench:
    """Runs scenarios against running servers and collects every run's numbers.

    ``sites`` and ``servers`` are keyed by (name, size): each table size has its own
    databases and servers, so the 1k and 1M runs of a variant interleave too.
    """

    def __init__(
        self,
        sites: dict[tuple[str, str], Site],
        servers: dict[tuple[str, str], Server],
        load: Load,
        capabilities: dict[str, bool],
        work: Path,
        *,
        sizes: list[str],
        seconds: float,
        warmup: float,
        reps: int,
    ):
        self.sites, self.servers, self.load = sites, servers, load
        self.capabilities, self.work, self.sizes = capabilities, work, sizes
        self.seconds, self.warmup, self.reps = seconds, warmup, reps
        self.runs: list[dict] = []

    def missing(self, needs: str | None) -> bool:
        return needs is not None and not self.capabilities.get(needs, False)

    def variants(self, scenario: Scenario) -> list[Variant]:
        return [v for v in scenario.variants if not self.missing(v.needs)]

    # Request files ------------------------------------------------------------------------

    def mint(self, variant: Variant, size: str, count: int, names: list[str]) -> list[str]:
        paths = [str(self.work / name) for name in names]
        args = ["--kind", variant.kind, "--count", str(count)]
        args += [arg for path in paths for arg in ("--out", path)]
        if variant.client:
            args += ["--client", variant.client]
        self.sites[variant.site, size].task("mint", *args)
        return paths

    def _pool(self, variant: Variant, tag: str, size: str, pools: dict) -> str:
        """Reusable credentials: one file per site, kind and client, shared by variants."""
        key = (variant.site, variant.kind, variant.client, size)
        if key not in pools:
            count = 1 if variant.kind == "client_credentials" else POOL
            pools[key] = self.mint(variant, size, count, [f"{tag}-pool"])[0]
        return pools[key]

    # Runs ---------------------------------------------------------------------------------

    def run(self, variant: Variant, size: str, lines: str, seconds: float) -> dict:
        server = self.servers[variant.server, size]
        before = os.getloadavg()[0]
        result = self.load.run(
            server.url(variant.path), variant.method, lines, seconds, wrap=not variant.single_use
        )
        server.drain()
        result["loadavg_before"] = before
        return result

    def _duration(self, rate: float) -> float:
        """Seconds for a run: the set length, or longer (up to SLOW_CAP) so that a slow
        variant still completes about MIN_REQUESTS requests and its rate means something."""
        if rate * self.seconds >= MIN_REQUESTS:
            return self.seconds
        return min(SLOW_CAP, max(self.seconds, math.ceil(MIN_REQUESTS / max(rate, 0.1))))

    def _prepare(self, scenario: Scenario, v: Variant, size: str, pools: dict):
        """Warm one variant up at one size; its run length and one request file per rep."""
        tag = f"{scenario.key}-{size}-{v.name.replace(' ', '_')}"
        if not v.single_use:
            pool = self._pool(v, tag, size, pools)
            warm = self.run(v, size, pool, self.warmup)
            return self._duration(warm["rate"]), [pool] * self.reps
        warm_count = int(WARMUP_GUESS * self.warmup) + 20
        warm = self.run(v, size, self.mint(v, size, warm_count, [f"{tag}-warm"])[0], self.warmup)
        rate = warm["rate"]
        if warm["exhausted_threads"]:
            rate = 4 * warm_count / self.warmup  # it ran dry: the rate is a lower bound
        seconds = self._duration(rate)
        # Twice what the warm-up rate needs, and never fewer than a fast server could use.
        need = math.ceil(max(rate * seconds * 2, WARMUP_GUESS * self.seconds)) + 50
        return seconds, self.mint(v, size, need, [f"{tag}-rep{i}" for i in range(self.reps)])

    def measure(self, scenario: Scenario) -> None:
        """Warm every variant up at every size, then ``reps`` rounds of all of them in turn:
        A@1k A@1M B@1k B@1M … A@1k A@1M … so that ratios compare runs made side by side."""
        variants = self.variants(scenario)
        for site in self.sites.values():
            site.task("prune")
        pools: dict = {}
        plan = {
            (v, size): self._prepare(scenario, v, size, pools)
            for v in variants
            for size in self.sizes
        }
        for rep in range(self.reps):
            for v in variants:
                for size in self.sizes:
                    seconds, files = plan[v, size]
                    result = self.run(v, size, files[rep], seconds)
                    self.runs.append(
                        {"scenario": scenario.key, "size": size, "variant": v.name, "rep": rep}
                        | result
                    )
                    print(
                        f"  {scenario.key:<19} rep {rep + 1}/{self.reps} {v.name:<16} {size:<4}"
                        f" {result['rate']:9.1f} req/s  p50"
                        f" {result['latency_us']['p50'] / 1000:7.1f} ms  errors"
                        f" {result['status_errors'] + result['socket_errors']}",
                        flush=True,
                    )

    def queries(self) -> dict[str, dict[str, dict]]:
        """Queries per warm request of every variant (small tables), counted in-process."""
        counts: dict[str, dict[str, dict]] = {}
        size = self.sizes[0]
        for scenario in SCENARIOS:
            if self.missing(scenario.needs):
                continue
            for v in self.variants(scenario):
                args = ["--kind", v.kind, "--method", v.method, "--path", v.path]
                if v.client:
                    args += ["--client", v.client]
                env = self.servers[v.server, size].env
                counts.setdefault(scenario.key, {})[v.name] = self.sites[v.site, size].task(
                    "queries", *args, **env
                )
        return counts
