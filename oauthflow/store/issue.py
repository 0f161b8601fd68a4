"""Writing what the authorization server issues: codes and token pairs.

Values arrive in clear and leave as digests and hints (``oauthflow.tokens``); the clear
values go only to the client. Everything issued from one authorization joins one family:
a code starts one, and the tokens bought with a code or a refresh token join its family.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from .. import tokens
from ..models import AccessToken, AuthorizationCode, Client, RefreshToken, new_family_id
from ..settings import oauthflow_settings


def issue_code(
    value: str,
    *,
    client: Client,
    user: Any,
    scope: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
    resource: str = "",
) -> AuthorizationCode:
    """Store a new authorization code; a new family starts with it."""
    lifetime = oauthflow_settings.AUTHORIZATION_CODE_LIFETIME
    return AuthorizationCode.objects.create(
        digest=tokens.digest(value),
        hint=tokens.hint(value),
        client=client,
        user=user,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        resource=resource,
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )


def issue_tokens(
    *,
    access_token: str,
    refresh_token: str | None,
    client: Client,
    user: Any,
    scope: str,
    expires_in: int,
    parent: Any = None,
    resource: str = "",
    jkt: str = "",
    refresh_jkt: str = "",
) -> tuple[AccessToken, RefreshToken | None]:
    """Store an access token, and a refresh token when one is issued.

    ``parent`` is the credential the request used up (a code, a refresh token, or another
    grant's, such as a device code), if any: the new tokens join its
    family. A refresh token bought with a refresh token keeps its parent's scope and
    resources (a narrower request narrows only the access token) and the authorization's
    absolute end; ``resource`` is the access token's audience (RFC 8707). ``jkt`` and
    ``refresh_jkt`` are the thumbprints of the keys each is bound to (RFC 9449), if any.
    """
    now = timezone.now()
    family = parent.family if parent is not None else new_family_id()
    access = AccessToken.objects.create(
        digest=tokens.digest(access_token),
        hint=tokens.hint(access_token),
        client=client,
        user=user,
        scope=scope,
        family=family,
        resource=resource,
        jkt=jkt,
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in),
    )
    if refresh_token is None:
        return access, None
    rotated = parent if isinstance(parent, RefreshToken) else None
    if rotated is not None:
        family_expires_at = rotated.family_expires_at
    else:
        lifetime = oauthflow_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME
        family_expires_at = now + timedelta(seconds=lifetime)
    idle = timedelta(seconds=oauthflow_settings.REFRESH_TOKEN_IDLE_LIFETIME)
    refresh = RefreshToken.objects.create(
        digest=tokens.digest(refresh_token),
        hint=tokens.hint(refresh_token),
        client=client,
        user=user,
        # The authorization's scope, not the access token's (a resource may narrow that).
        scope=parent.scope if parent is not None else scope,
        # What the authorization named bounds every token issued from it.
        resource=parent.resource if parent is not None else resource,
        family=family,
        jkt=refresh_jkt,
        created_at=now,
        expires_at=min(now + idle, family_expires_at),
        family_expires_at=family_expires_at,
        rotated_from=rotated,
    )
    return access, refresh
