"""HTTP endpoints of the authorization server, one module per concern."""

from .authorize import authorize
from .authorized_apps import authorized_apps
from .jwks import jwks
from .login import login
from .metadata import metadata
from .token import introspect, revoke, token

__all__ = [
    "authorize",
    "authorized_apps",
    "introspect",
    "jwks",
    "login",
    "metadata",
    "revoke",
    "token",
]
