"""The device authorization endpoint (RFC 8628 §3.1, §3.2), on Authlib's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Request, UnauthorizedClientError
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint as _DeviceAuthorizationEndpoint
from django.db import IntegrityError, router, transaction
from django.urls import reverse
from django.utils import timezone

from .. import tokens
from ..models import Client
from ..server import resources
from ..server.grants.base import CLIENT_AUTH_METHODS
from ..settings import oauthflow_settings
from . import user_code
from .grant import DEVICE_CODE_GRANT_TYPE
from .models import DeviceAuthorization

#: Tries at a user code not yet in the table; a collision is about 1 in 2.6e10 per row.
_USER_CODE_TRIES = 5


class DeviceAuthorizationEndpoint(_DeviceAuthorizationEndpoint):
    """A device asks for authorization; it gets a device code to poll with and a user
    code for the user to enter at ``verification_uri``.

    The client authenticates as at the token endpoint (a public client names its
    ``client_id``) and must be registered for the device_code grant. ``scope`` and
    ``resource`` are checked here, as the authorization endpoint checks them, so the
    user is never asked to approve what the client could not be given.
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    URL_NAME = "oauthflow:device-authorization"

    @classmethod
    def metadata(cls, url: str) -> dict[str, Any]:
        return {"device_authorization_endpoint": url}

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, list]:
        client: Client = self.authenticate_client(request)
        if not client.check_grant_type(DEVICE_CODE_GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        scope = request.payload.scope
        granted = client.get_allowed_scope(scope)
        if granted is None:
            raise InvalidScopeError(client.scope_problem(scope))
        named = resources.requested(request.payload)
        targets = resources.resolve(client, named) if named else []
        if targets and not resources.narrow_scope(granted, targets):
            raise InvalidScopeError("None of the requested scopes is accepted by the resource.")

        device_code = tokens.generate(tokens.DEVICE_CODE_PREFIX)
        lifetime = oauthflow_settings.DEVICE_CODE_LIFETIME
        interval = oauthflow_settings.DEVICE_POLLING_INTERVAL
        code = _save(
            client=client,
            device_code=device_code,
            scope=granted,
            resource=" ".join(r.identifier for r in targets),
            lifetime=lifetime,
            interval=interval,
        )
        uri = verification_uri(request.django_request)
        shown = user_code.display(code)
        data = {
            "device_code": device_code,
            "user_code": shown,
            "verification_uri": uri,
            "verification_uri_complete": add_params_to_uri(uri, [("user_code", shown)]),
            "expires_in": lifetime,
            "interval": interval,
        }
        headers = [*default_json_headers, ("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return 200, data, headers


def verification_uri(request: Any) -> str:
    """Where users enter codes: the setting, or the issuer and oauthflow's page."""
    from ..server.authorization_server import get_server

    configured = oauthflow_settings.DEVICE_VERIFICATION_URI
    if configured:
        return str(configured)
    return get_server().issuer(request) + reverse("oauthflow:device")


def _save(
    *, client: Client, device_code: str, scope: str, resource: str, lifetime: int, interval: int
) -> str:
    """Store the request with a user code no other row has; return the user code."""
    now = timezone.now()
    db = router.db_for_write(DeviceAuthorization)
    for _ in range(_USER_CODE_TRIES):
        code = user_code.generate()
        try:
            with transaction.atomic(using=db):
                DeviceAuthorization.objects.create(
                    digest=tokens.digest(device_code),
                    hint=tokens.hint(device_code),
                    user_code_digest=user_code.digest(code),
                    client=client,
                    scope=scope,
                    resource=resource,
                    poll_interval=interval,
                    created_at=now,
                    expires_at=now + timedelta(seconds=lifetime),
                )
        except IntegrityError:
            continue  # that user code is taken: draw another
        return code
    raise RuntimeError("Could not draw an unused user code.")
