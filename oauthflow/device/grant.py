"""The device code grant at the token endpoint (RFC 8628 §3.4, §3.5)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    AuthorizationPendingError,
    ExpiredTokenError,
    SlowDownError,
)
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from django.utils import timezone

from .. import tokens
from ..models import Client, GrantType
from ..server.grants.base import GrantMixin
from ..store.validity import Refusal, refusal
from . import polling
from .models import DeviceAuthorization

__all__ = ["DEVICE_CODE_GRANT_TYPE", "DeviceCodeGrant"]


class DeviceCodeGrant(GrantMixin, _DeviceCodeGrant):
    """The device polls with its device code until the user has decided.

    Pending: ``authorization_pending``, or ``slow_down`` for a poll sooner than the
    interval (``oauthflow.device.polling``). Denied: ``access_denied``. Expired:
    ``expired_token``. Approved: tokens, once; the exchange is a conditional UPDATE in
    the token transaction, so of concurrent polls exactly one gets them and the others
    ``invalid_grant``. A device code used twice is not taken as evidence of theft (it
    never passes through a browser), so nothing is revoked.
    """

    GRANT_TYPE = DEVICE_CODE_GRANT_TYPE
    ISSUES_REFRESH_TOKEN = True

    @hooked
    def validate_token_request(self) -> None:
        device_code = self.request.payload.data.get("device_code")
        if not device_code:
            raise InvalidRequestError("Missing 'device_code'.")
        client: Client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        authorization = _find(device_code, client)
        self.request.user = self._decision(authorization)
        self.request.client = client
        self.request.credential = authorization

    def _decision(self, authorization: DeviceAuthorization) -> Any:
        """The user who approved, or the error the device is answered with."""
        now = timezone.now()
        if authorization.revoked_at is not None:
            raise InvalidGrantError("This device authorization was revoked.")
        if authorization.exchanged_at is not None:
            raise InvalidGrantError("This device code was already exchanged.")
        if authorization.expires_at <= now:
            raise ExpiredTokenError("The device code has expired: start again.")
        if authorization.status == DeviceAuthorization.DENIED:
            raise AccessDeniedError("The user denied the request.")
        if authorization.status == DeviceAuthorization.PENDING:
            if not polling.on_time(authorization, now):
                error = SlowDownError(
                    f"Polling too fast: wait {authorization.poll_interval} seconds between polls."
                )
                raise error
            raise AuthorizationPendingError("The user has not decided yet.")
        if refusal(authorization, now) is Refusal.USER_INACTIVE:
            raise InvalidGrantError("The user of this device code is no longer active.")
        return authorization.user

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        authorization: DeviceAuthorization = self.request.credential
        exchanged = DeviceAuthorization.objects.filter(
            pk=authorization.pk,
            status=DeviceAuthorization.APPROVED,
            exchanged_at__isnull=True,
            revoked_at__isnull=True,
        ).update(exchanged_at=timezone.now())
        if not exchanged:
            raise InvalidGrantError("This device code was already exchanged.")
        self.request.consumed = authorization  # the tokens join its family
        token = self.generate_token(
            user=self.request.user,
            scope=authorization.scope,
            include_refresh_token=self.request.client.check_grant_type(GrantType.REFRESH_TOKEN),
        )
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _find(device_code: str, client: Client) -> DeviceAuthorization:
    if not tokens.is_plausible(device_code):
        raise InvalidGrantError("The device code is unknown.")
    found: DeviceAuthorization | None = DeviceAuthorization.objects.select_related("user").find(
        digest=tokens.digest(device_code)
    )
    if found is None or found.client_id != client.pk:
        # The same answer for another client's code: it learns nothing of it.
        raise InvalidGrantError("The device code is unknown.")
    found.client = client  # the same row, already loaded by client authentication
    return found
