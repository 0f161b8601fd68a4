"""Signals a site can connect to, e.g. to audit or alert.

Every signal is sent with ``sender`` = the class that sent it and keyword arguments as
listed. No argument ever carries a token, code or secret value.
"""

from django.dispatch import Signal

#: The user allowed a client. kwargs: request, client, user, scope.
authorization_granted = Signal()
#: The user denied a client. kwargs: request, client, user, scope.
authorization_denied = Signal()
#: Tokens were issued. kwargs: request, client, user (None for client_credentials),
#: grant_type, scope, access_token (the AccessToken row), refresh_token (row or None).
token_issued = Signal()
#: A refresh token that was already rotated, or a redeemed authorization code, was
#: presented again; the whole family was revoked. kwargs: request, client, user, family,
#: credential ("refresh_token" or "authorization_code").
token_reuse_detected = Signal()
#: A token or a whole authorization was revoked. kwargs: client, user, family, by
#: ("client", "user", "admin", "command").
token_revoked = Signal()
