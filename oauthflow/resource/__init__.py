"""Resource protection: what an API needs to accept the tokens this server issues.

* :mod:`.schemes`: the ways a request presents a token (Bearer in :mod:`.rfc6750`).
* :mod:`.validation`: a presented value to its live token, or why not, any format.
* :mod:`.authentication`: the two together, for one request.
* :mod:`.errors`: the RFC 6750 §3 answers and their challenges.
* :mod:`.cache`: the optional token cache.
* :mod:`.decorators`: protecting plain Django views (DRF classes: ``oauthflow.rest_framework``).

It reads the store and the token formats and imports nothing of the authorization
server (``tests/test_architecture.py`` holds it to that).
"""

from __future__ import annotations

from . import schemes
from .rfc6750 import BearerScheme

schemes.register(BearerScheme())
