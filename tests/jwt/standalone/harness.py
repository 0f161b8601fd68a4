"""What the test needs to see inside the standalone API's process, installed by
``serve`` before the app starts:

* every oauthflow module the process imported *or tried to import* (a failed import
  leaves nothing in ``sys.modules``, so a finder records the attempts);
* every attempt to reach a database (the dummy backend refuses them; this counts them);
* a clock the test can move forward: the key source's, so waiting out its cache and its
  refetch interval takes no real time.
"""

from __future__ import annotations

import sys
import time
import types
from typing import Any

#: Names of the oauthflow modules looked for, in order.
import_attempts: list[str] = []
#: What tried to use the database ("connect", "cursor").
database_attempts: list[str] = []
#: Seconds added to the key source's monotonic clock.
clock_offset = 0.0


class _ImportRecorder:
    """A meta path finder that finds nothing and writes down what was looked for."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "oauthflow" or name.startswith("oauthflow."):
            import_attempts.append(name)
        return None


def monotonic() -> float:
    return time.monotonic() + clock_offset


def install_import_recorder() -> None:
    sys.meta_path.insert(0, _ImportRecorder())


def install() -> None:
    """After ``django.setup()``: the database recorder and the clock."""
    from django.db.backends.dummy import base

    from oauthflow.formats import keysource

    def recorded(what: str, refuse: Any) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            database_attempts.append(what)
            return refuse(self, *args, **kwargs)

        return method

    wrapper = base.DatabaseWrapper
    wrapper.ensure_connection = recorded("connect", wrapper.ensure_connection)
    wrapper._cursor = recorded("cursor", wrapper._cursor)
    # The key source reads time.monotonic through its module's ``time``.
    keysource.time = types.SimpleNamespace(monotonic=monotonic, time=time.time)


def state() -> dict[str, Any]:
    from oauthflow.formats import keysource

    return {
        "key_source": type(keysource.get()).__name__,
        "oauthflow_modules": sorted(m for m in sys.modules if m.startswith("oauthflow")),
        "import_attempts": sorted(set(import_attempts)),
        "database_attempts": list(database_attempts),
        "clock_offset": clock_offset,
    }


def reset() -> None:
    """Forget the keys fetched so far, as a fresh process would have none (the imports
    and database attempts are kept: they are about the whole life of the process)."""
    from oauthflow.formats import keysource

    keysource._source = None


def advance_clock(seconds: float) -> float:
    global clock_offset
    clock_offset += seconds
    return clock_offset
