"""Requests released together from several threads, each with its own test client and
database connection: how the concurrency tests (on PostgreSQL) race one another."""

from __future__ import annotations

import threading

from django.db import connection
from django.test import Client as HttpClient

THREADS = 8


def run_concurrently(request_once, clients: list | None = None) -> list:
    """``request_once(http)`` in THREADS threads released together; each thread has its
    own test client (``clients[i]`` if given, a fresh one if not) and its own database
    connection, closed at the end. The responses, or the exceptions raised, in order."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def worker(i: int) -> None:
        try:
            http = clients[i] if clients else HttpClient()
            barrier.wait()
            results[i] = request_once(http)
        except Exception as exc:  # recorded, so the assertion shows it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    problems = [r for r in results if isinstance(r, Exception) or r.status_code >= 500]
    assert not problems, problems
    return results
