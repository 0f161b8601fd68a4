"""A node script of tests/flows/node driven from a test over JSON lines: one class for
every such script (the relying party, the DPoP, PAR and device clients)."""

from __future__ import annotations

import json
import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).parent / "node"


class NodeScript:
    """The running ``script``: its stdout read line by line in a thread, its stderr kept
    to show when a step fails. ``step(op, **fields)`` sends one request line and returns
    the reply, for the scripts that answer requests."""

    def __init__(self, node: str, script: str, stderr, timeout: float):
        self.name = script
        self.stderr = stderr
        self.timeout = timeout
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command)
            [node, script],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def next_line(self, waiting_for: str) -> dict:
        """The script's next JSON line; the test fails if none comes in time."""
        try:
            line = self.lines.get(timeout=self.timeout)
        except queue.Empty:
            pytest.fail(f"{self.name} said nothing {waiting_for} in {self.timeout} s{self.log()}")
        if not line:
            pytest.fail(f"{self.name} exited {waiting_for}{self.log()}")
        return json.loads(line)

    def step(self, op: str, **fields) -> dict:
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        return self.next_line(f"in reply to {op!r}")

    def ok(self, op: str, **fields) -> dict:
        reply = self.step(op, **fields)
        assert reply["ok"], f"{op}: {reply['error']}"
        return reply

    def refused(self, op: str, **fields) -> dict:
        """The step must fail; its error."""
        reply = self.step(op, **fields)
        assert not reply["ok"], f"{op} should have been refused: {reply}"
        return reply["error"]

    def exchanges(self) -> list[dict]:
        """The HTTP exchanges since the last call, as the script's customFetch saw them."""
        return self.ok("exchanges")["exchanges"]

    def log(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return "\nstderr:\n" + self.stderr.read()

    def close(self) -> None:
        if not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def running(node: str, script: str, timeout: float) -> Iterator[NodeScript]:
    """``script`` running for the length of the block, then stopped."""
    with tempfile.TemporaryFile("w+") as stderr:
        started = NodeScript(node, script, stderr, timeout)
        try:
            yield started
        finally:
            started.close()
