"""A database router for the tests of read replicas: reads go to "replica"."""

from __future__ import annotations

from typing import Any


class ReadReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, *objects: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, *args: Any, **hints: Any) -> bool:
        return db == "default"
