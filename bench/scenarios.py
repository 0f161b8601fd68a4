"""What is measured: each scenario, its variants (oauthflow and its references), and the
interleaved runs (A B C A B C …) that measure them."""

from __future__ import annotations

import math
import os
import threading
from collections import defaultdict
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
    # DOT: the "default" (hashed) or "hasher-off" application; oauthflow: None, an openid
    # flavour of its codes ("openid-rs256", "openid-es256": tasks.OPENID_CLIENTS) or a JWT
    # access token flavour ("jwt", "jwt-client": tasks.JWT_FLAVOURS). For the "dpop" kind it
    # is not set: the site is given the proofs' htu instead (Bench.client_arg)
    client: str | None = None
    needs: str | None = None  # a capability of this checkout, else the variant is skipped

    @property
    def site(self) -> str:
        return "dot" if self.server == "dot" else "oauthflow"

    @property
    def single_use(self) -> bool:
        return self.kind in ("authorization_code", "refresh_token", "dpop")

    @property
    def fresh(self) -> bool:
        """Its requests go stale within a run: a DPoP proof's ``iat`` is accepted for
        ``DPOP_PROOF_MAX_AGE`` (60 s by default), so its file is minted right before each
        run (warm-up included) instead of all before the first repetition."""
        return self.kind == "dpop"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    variants: tuple[Variant, ...]
    needs: str | None = None  # when missing, the whole scenario is skipped


def _token_scenario(
    grant: str, title: str, *references: Variant, beside: tuple[Variant, ...] = ()
) -> Scenario:
    """oauthflow, then ``beside`` (oauthflow's own variants, printed next to it), DOT with
    and without its hasher, then ``references``."""
    return Scenario(
        grant,
        title,
        (
            Variant("oauthflow", "oauthflow", "POST", TOKEN["oauthflow"], grant),
            *beside,
            Variant("dot", "dot", "POST", TOKEN["dot"], grant, client="default"),
            Variant("dot hasher off", "dot", "POST", TOKEN["dot"], grant, client="hasher-off"),
            *references,
        ),
    )


#: The same code exchange on the same server, the code issued with ``openid read`` instead
#: of ``read`` (and its Authentication row, as the authorization endpoint writes it): the
#: response carries an ID token signed with the client's algorithm. Measured in the same
#: reps as plain oauthflow; what they add is printed under the scenario (report.py).
OPENID_VARIANTS = tuple(
    Variant(
        f"openid {alg}",
        "oauthflow",
        "POST",
        TOKEN["oauthflow"],
        "authorization_code",
        client=f"openid-{alg.lower()}",
        needs="openid",
    )
    for alg in ("RS256", "ES256")
)

#: The protected GET with JWT access tokens (RFC 9068) for the site's resource, verified
#: locally by the same view and classes as "oauthflow": a user's token (the same client, user
#: and scope as the opaque ones; the view reads request.user, which a JWT loads on first
#: use), the same on the server with the token cache on (one cache read for a revocation
#: marker), and the client's own token (client_credentials: no user to load). "hand jwt"
#: verifies the client's tokens by hand with the same library: a bound, not a check.
JWT_PROTECTED_VARIANTS = (
    Variant("oauthflow jwt", "oauthflow", "GET", "/api/protected/", "bearer", "jwt", "jwt"),
    Variant(
        "oauthflow jwt+cache", "oauthflow-cache", "GET", "/api/protected/", "bearer", "jwt", "jwt"
    ),
    Variant(
        "oauthflow jwt client",
        "oauthflow",
        "GET",
        "/api/protected/",
        "bearer",
        "jwt-client",
        "jwt",
    ),
    Variant("hand jwt", "oauthflow", "GET", "/api/hand-jwt/", "bearer", "jwt-client", "jwt"),
)

#: The protected GET of the "protected" scenario (the same view and classes, on the same
#: servers) with a DPoP-bound opaque token (RFC 9449), next to the same tokens presented as
#: Bearer, in the same repetitions: "oauthflow dpop" sends ``Authorization: DPoP <token>``
#: and a fresh proof (ES256, its own jti, htm GET, htu the server's URL, ath of the token)
#: per request; the replay store is the database on the plain server (one INSERT) and the
#: Redis token cache on the cached one (one add). What DPoP adds is printed under them.
DPOP_VARIANTS = (
    Variant("oauthflow", "oauthflow", "GET", "/api/protected/", "bearer"),
    Variant("oauthflow dpop", "oauthflow", "GET", "/api/protected/", "dpop"),
    Variant("oauthflow+cache", "oauthflow-cache", "GET", "/api/protected/", "bearer"),
    Variant("oauthflow dpop+cache", "oauthflow-cache", "GET", "/api/protected/", "dpop"),
)

SCENARIOS = (
    Scenario(
        "protected",
        "protected DRF GET",
        (
            Variant("unprotected", "oauthflow", "GET", "/api/open/", "bearer"),
            Variant("hand lookup", "oauthflow", "GET", "/api/hand/", "bearer"),
            Variant("one round trip", "oauthflow", "GET", "/api/roundtrip/", "bearer"),
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
            *JWT_PROTECTED_VARIANTS,
            Variant("dot", "dot", "GET", "/api/protected/", "bearer", client="default"),
        ),
    ),
    _token_scenario("authorization_code", "token: authorization_code+PKCE", beside=OPENID_VARIANTS),
    _token_scenario("refresh_token", "token: refresh_token (rotation)"),
    _token_scenario(
        "client_credentials",
        "token: client_credentials",
        # The floor: the same two statements written by hand (oauthflow_site/views.py).
        Variant("hand endpoint", "oauthflow", "POST", "/hand/token/", "client_credentials"),
        # … and with a JWT access token signed RS256 (the floor of the "oauthflow jwt" row).
        Variant(
            "hand jwt endpoint",
            "oauthflow",
            "POST",
            "/hand/jwt-token/",
            "client_credentials",
            client="jwt",
            needs="jwt",
        ),
        # The same request naming the site's JWT resource: the token is a JWT (RFC 9068).
        beside=(
            Variant(
                "oauthflow jwt",
                "oauthflow",
                "POST",
                TOKEN["oauthflow"],
                "client_credentials",
                client="jwt",
                needs="jwt",
            ),
        ),
    ),
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
    Scenario("dpop", "protected GET, DPoP", DPOP_VARIANTS, needs="dpop"),
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

    def client_arg(self, variant: Variant, size: str | None) -> str:
        """What the site's mint is told besides the kind: the variant's client, or for a
        DPoP request the proofs' htu, the view's URL as the server builds it (its port
        included; ``size`` None: as the in-process query count's test client sends it)."""
        if variant.kind == "dpop":
            if size is None:
                return "http://127.0.0.1" + variant.path
            return self.servers[variant.server, size].url(variant.path)
        return variant.client or "-"

    def mint(self, orders: dict[tuple[str, str], list[tuple]], *, prune: bool = False) -> None:
        """Write request files: ``orders[(site, size)]`` lists (variant, count, path). One
        task per site, sites in parallel; ``prune`` first deletes earlier credentials."""

        def mint_at(key: tuple[str, str]) -> None:
            args = ["--prune"] if prune else []
            for variant, count, path in orders.get(key, []):
                client = self.client_arg(variant, key[1])
                args += ["--request", variant.kind, client, str(count), path]
            if args:
                self.sites[key].task("mint", *args)

        in_parallel(mint_at, list(self.sites) if prune else list(orders))

    def mint_fresh(self, variant: Variant, size: str, count: int, path: str) -> None:
        """The request file of one run of a ``fresh`` variant, minted just before it (in
        this thread: a failure stops the bench, as a run without its file would)."""
        client = self.client_arg(variant, size)
        self.sites[variant.site, size].task(
            "mint", "--request", variant.kind, client, str(count), path
        )

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

    def measure(self, scenario: Scenario) -> None:
        """Warm every variant up at every size, then ``reps`` rounds of all of them in turn:
        A@1k A@1M B@1k B@1M … A@1k A@1M … so that ratios compare runs made side by side.
        A ``fresh`` variant's file is minted right before each of its runs (not timed)."""
        variants = [(v, size) for v in self.variants(scenario) for size in self.sizes]
        # Request files: reusable credentials in one pool per site, kind, client and size;
        # single-use ones in one file per run, minted after the warm-up measured the rate.
        files, warm_files, orders = {}, {}, defaultdict(list)
        for v, size in variants:
            tag = f"{scenario.key}-{size}-{v.site}-{v.kind}-{v.client or 'x'}"
            if v.single_use:
                warm_files[v, size] = str(self.work / f"{tag}-{v.name}-warm".replace(" ", "_"))
                warm_count = int(WARMUP_GUESS * self.warmup) + 20
                if not v.fresh:
                    orders[v.site, size].append((v, warm_count, warm_files[v, size]))
            else:
                pool = str(self.work / f"{tag}-pool")
                if pool not in warm_files.values():
                    count = 1 if v.kind == "client_credentials" else POOL
                    orders[v.site, size].append((v, count, pool))
                warm_files[v, size] = pool
                files[v, size] = [pool] * self.reps
        self.mint(orders, prune=True)
        seconds, orders, counts = {}, defaultdict(list), {}
        for v, size in variants:
            if v.fresh:
                self.mint_fresh(v, size, int(WARMUP_GUESS * self.warmup) + 20, warm_files[v, size])
            warm = self.run(v, size, warm_files[v, size], self.warmup)
            rate = warm["rate"]
            if warm["exhausted_threads"]:  # it ran dry: the rate is a lower bound
                rate = 4 * int(WARMUP_GUESS * self.warmup) / self.warmup
            seconds[v, size] = self._duration(rate)
            if v.single_use:
                # Twice what the warm-up rate needs, never fewer than a fast server could use.
                need = math.ceil(max(rate * seconds[v, size] * 2, WARMUP_GUESS * self.seconds))
                stem = warm_files[v, size].removesuffix("-warm")
                files[v, size] = [f"{stem}-rep{i}" for i in range(self.reps)]
                counts[v, size] = need + 50
                if v.fresh:  # minted per run: cheap to be generous (the warm-up may be slow)
                    counts[v, size] = max(need, math.ceil(4 * WARMUP_GUESS * self.seconds)) + 50
                else:
                    orders[v.site, size] += [(v, need + 50, path) for path in files[v, size]]
        self.mint(orders)
        for rep in range(self.reps):
            for v, size in variants:
                if v.fresh:
                    self.mint_fresh(v, size, counts[v, size], files[v, size][rep])
                result = self.run(v, size, files[v, size][rep], seconds[v, size])
                if v.fresh:  # the next run's file: twice what this one used, at least
                    used = math.ceil(result["rate"] * seconds[v, size] * 2)
                    counts[v, size] = max(counts[v, size], used + 50)
                    if result["exhausted_threads"]:
                        counts[v, size] *= 2
                self.runs.append(
                    {"scenario": scenario.key, "size": size, "variant": v.name, "rep": rep} | result
                )
                print(
                    f"  {scenario.key:<19} rep {rep + 1}/{self.reps} {v.name:<20} {size:<4}"
                    f" {result['rate']:9.1f} req/s  p50"
                    f" {result['latency_us']['p50'] / 1000:7.1f} ms  errors"
                    f" {result['status_errors'] + result['socket_errors']}",
                    flush=True,
                )

    def queries(self) -> dict[str, dict[str, dict]]:
        """Queries per warm request of every variant (small tables), counted in-process:
        one task per site and server environment (the cached server has its own)."""
        size = self.sizes[0]
        groups: dict[tuple, list[tuple[str, Variant]]] = defaultdict(list)
        for scenario in SCENARIOS:
            if not self.missing(scenario.needs):
                for v in self.variants(scenario):
                    env = tuple(sorted(self.servers[v.server, size].env.items()))
                    groups[v.site, env].append((scenario.key, v))
        counts: dict[str, dict[str, dict]] = defaultdict(dict)
        for (site, env), probes in groups.items():
            args = []
            for _, v in probes:
                args += ["--probe", v.kind, v.method, v.path, self.client_arg(v, None)]
            found = self.sites[site, size].task("queries", *args, **dict(env))["probes"]
            for (key, v), result in zip(probes, found, strict=True):
                counts[key][v.name] = result
        return dict(counts)


def in_parallel(function, arguments: list, width: int = 2) -> None:
    """``function(argument)`` for each argument, ``width`` at a time (the machine has 2 cores)."""
    for start in range(0, len(arguments), width):
        threads = [
            threading.Thread(target=function, args=(a,)) for a in arguments[start : start + width]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
