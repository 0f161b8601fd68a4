"""The authorization server: Authlib's protocol core, a registry of what it serves, and
the Django glue.

* :mod:`.registry`: grants, endpoints, extensions; everything else derives from it.
* :mod:`.grants`, :mod:`.endpoints`: one module per grant and per endpoint.
* :mod:`.authorization_server`: Authlib's server built from the registry
  (:func:`get_server`).
* :mod:`.metadata`: the RFC 8414 document, from the registry.
* :mod:`.request`: turning a Django request into Authlib's, defensively.

Importing this package is cheap (the registry imports nothing of Authlib); the server is
built on first use.
"""

from __future__ import annotations

from typing import Any

from .registry import registry

__all__ = ["get_server", "registry"]


def get_server() -> Any:
    from .authorization_server import get_server as _get_server

    return _get_server()


def __getattr__(name: str) -> Any:
    # ``from oauthflow.server import server``, as in earlier releases.
    if name == "server":
        return get_server()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
