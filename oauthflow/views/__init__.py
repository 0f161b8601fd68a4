"""HTTP endpoints of the authorization server, one module per concern."""

from .authorize import authorize
from .authorized_apps import authorized_apps
from .login import login
from .metadata import metadata
from .token import introspect, revoke, token

__all__ = [
    "authorize",
    "authorized_apps",
    "introspect",
    "login",
    "metadata",
    "revoke",
    "token",
]
