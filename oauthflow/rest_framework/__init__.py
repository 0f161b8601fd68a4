"""Django REST framework support: ``OAuth2Authentication`` and the scope permissions.

Needs DRF (``pip install 'oauthflow[drf]'``); nothing else in oauthflow imports it. With
drf-spectacular installed too, importing this package registers the OpenAPI extension.
"""

try:
    import rest_framework  # noqa: F401
except ImportError as exc:  # pragma: no cover
    raise ImportError(
        "oauthflow.rest_framework needs Django REST framework: pip install 'oauthflow[drf]'."
    ) from exc

from .authentication import BearerTokenError, OAuth2Authentication, TokenAuthenticationFailed
from .permissions import (
    InsufficientScope,
    IsAuthenticatedOrTokenHasScope,
    TokenHasActionScope,
    TokenHasReadWriteScope,
    TokenHasScope,
)

try:
    import drf_spectacular  # noqa: F401
except ImportError:
    pass
else:
    from . import openapi  # noqa: F401  (drf-spectacular registers extensions on import)

__all__ = [
    "BearerTokenError",
    "InsufficientScope",
    "IsAuthenticatedOrTokenHasScope",
    "OAuth2Authentication",
    "TokenAuthenticationFailed",
    "TokenHasActionScope",
    "TokenHasReadWriteScope",
    "TokenHasScope",
]
