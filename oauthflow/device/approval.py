"""What other capabilities do when a user approves a device: a hook list.

OpenID Connect records the sign-in here (``oauthflow.oidc.authentication``), as it does
when the authorization code grant stores a code. Hooks run inside the transaction that
records the approval, so the device never sees an approval without what they wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_hooks: list[Callable[[Any, Any], None]] = []


def register(hook: Callable[[Any, Any], None]) -> None:
    """Run ``hook(request, authorization)`` when the user in ``request`` approves."""
    if hook not in _hooks:
        _hooks.append(hook)


def run(request: Any, authorization: Any) -> None:
    for hook in _hooks:
        hook(request, authorization)
