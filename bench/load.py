"""Load on loopback: wrk walking a file of pre-minted requests (walk.lua).

Without wrk, and when apt-get cannot install it, a small Python generator takes its place.
It is slower than wrk and shares the two cores with the servers, so absolute rates drop;
both providers are measured the same way, so the ratios stay comparable. The printed
table says which generator ran.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WALK = str(Path(__file__).with_name("walk.lua"))
TIMEOUT = "60s"  # DOT's hashed client secrets make single requests slow; never drop them


def ensure_wrk() -> str | None:
    """Path to wrk, installing Debian's package when it is missing and we may."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk is missing: installing Debian's package …", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-q"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], **quiet)
    if not shutil.which("wrk"):
        print("wrk is unavailable: using the Python load generator (lower absolute rates).")
    return shutil.which("wrk")


@dataclass
class Load:
    """How requests are sent: closed loop over ``connections``, optionally paced."""

    wrk: str | None
    connections: int = 4
    delay_ms: int = 0  # pause per connection between requests (paced load)

    @property
    def generator(self) -> str:
        return "wrk" if self.wrk else "python"

    def run(self, url: str, method: str, lines: str, seconds: float, *, wrap: bool) -> dict:
        """Send requests from ``lines`` for ``seconds``; wrk's numbers as a dict."""
        return self.start(url, method, lines, seconds, wrap=wrap).finish(wait=True)

    def start(self, url: str, method: str, lines: str, seconds: float, *, wrap: bool):
        if self.wrk:
            return _WrkRun(self, url, method, lines, seconds, wrap)
        return _PythonRun(self, url, method, lines, seconds, wrap)


class _WrkRun:
    def __init__(self, load: Load, url, method, lines, seconds, wrap):
        command = [
            load.wrk,
            "-t1",
            f"-c{load.connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={TIMEOUT}",
            "-s",
            WALK,
            url,
            "--",
            lines,
            method,
            str(load.delay_ms),
            "1",
            "1" if wrap else "0",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self, wait: bool = False) -> dict:
        if not wait:
            self.process.send_signal(signal.SIGINT)  # wrk stops and still reports
        out, err = self.process.communicate()
        for line in out.decode().splitlines():
            if line.startswith("BENCH_RESULT "):
                return _rates(json.loads(line.split(" ", 1)[1]))
        raise RuntimeError(f"wrk gave no result: {out.decode()[-500:]} {err.decode()[-500:]}")


@dataclass
class _PythonRun:
    load: Load
    url: str
    method: str
    lines: str
    seconds: float
    wrap: bool
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        # "<Authorization>\t<body>[\t<Name>: <value>]...", as walk.lua reads it.
        items = [line.rstrip("\n").split("\t") for line in open(self.lines)]
        self.items, self.position, self.lock = items, 0, threading.Lock()
        self.latencies: list[float] = []
        self.errors = {"status": 0, "socket": 0}
        self.exhausted = 0
        self.started = time.perf_counter()
        self.deadline = self.started + self.seconds
        self.threads = [
            threading.Thread(target=self._connection, daemon=True)
            for _ in range(self.load.connections)
        ]
        for thread in self.threads:
            thread.start()

    def _next(self):
        with self.lock:
            if self.position >= len(self.items):
                if not self.wrap:
                    self.exhausted = 1
                    return None
                self.position = 0
            self.position += 1
            return self.items[self.position - 1]

    def _connection(self):
        parts = urlsplit(self.url)
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            item = self._next()
            if item is None:
                return
            auth, body, *extra = item
            headers = {"Authorization": auth} if auth else {}
            headers.update(field.split(": ", 1) for field in extra)
            if self.method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                conn.request(self.method, parts.path, body or None, headers)
                status = conn.getresponse().status
                conn.close()
            except OSError:
                self.errors["socket"] += 1
                continue
            self.latencies.append(time.perf_counter() - started)
            if status > 399:
                self.errors["status"] += 1
            time.sleep(self.load.delay_ms / 1000)

    def finish(self, wait: bool = False) -> dict:
        if not wait:
            self.stop.set()
        for thread in self.threads:
            thread.join()
        duration = time.perf_counter() - self.started
        lat = sorted(self.latencies) or [0.0]

        def pct(p: float) -> int:
            return int(1e6 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))])

        return _rates(
            {
                "requests": len(self.latencies),
                "duration_us": int(duration * 1e6),
                "status_errors": self.errors["status"],
                "socket_errors": self.errors["socket"],
                "timeouts": 0,
                "exhausted_threads": self.exhausted,
                "latency_us": {
                    "mean": 1e6 * sum(lat) / len(lat),
                    "p50": pct(50),
                    "p90": pct(90),
                    "p99": pct(99),
                    "max": int(1e6 * lat[-1]),
                },
            }
        )


def _rates(result: dict) -> dict:
    result["rate"] = result["requests"] / max(1e-9, result["duration_us"] / 1e6)
    return result
