"""Turning a Django request into the request Authlib's server core reads, defensively.

Every parameter arrives from the network, so before Authlib sees it we reject what would
otherwise surface as a 500 deep inside: bytes that are not UTF-8, control characters
(PostgreSQL refuses NUL in text), values longer than any legitimate one, too many fields,
and an ``Authorization: Basic`` header that does not decode. What survives is printable
ASCII, parsed with the standard library's ``parse_qsl`` in strict mode.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from urllib.parse import parse_qsl, unquote

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import split_domain_port

from ..redirect_uris import is_loopback_address, is_loopback_host
from ..settings import oauthflow_settings

#: Longest accepted parameter value. Real values (tokens, URIs, state) are far shorter.
MAX_VALUE_LENGTH = 4096
#: Most fields in one OAuth request; the protocol uses about a dozen.
MAX_FIELDS = 50

# RFC 6749 Appendix A: every parameter we read is printable ASCII (VSCHAR, NQCHAR or a
# URI). Anything else is refused up front, before it can reach the database, a log line
# or an error_description.
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")


class Payload(OAuth2Payload):
    """Parameters from one source (query string or form body), each seen once or more."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist

    #: Parameters that may be sent more than once (RFC 8707: one per resource).
    REPEATABLE = frozenset({"resource"})

    def repeated(self) -> list[str]:
        return [
            key
            for key, values in self._datalist.items()
            if len(values) > 1 and key not in self.REPEATABLE
        ]


def parse_params(raw: str | bytes) -> list[tuple[str, str]]:
    """Strictly parse ``application/x-www-form-urlencoded`` data; InvalidRequestError if bad."""
    try:
        text = raw.decode("ascii") if isinstance(raw, bytes) else raw
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeError, ValueError) as exc:
        raise InvalidRequestError("The parameters are not valid UTF-8 form data.") from exc
    for key, value in pairs:
        _check_value(key)
        _check_value(value)
    return pairs


def is_acceptable(value: str) -> bool:
    """Printable ASCII and not too long: safe for a query, a log line or an error."""
    return len(value) <= MAX_VALUE_LENGTH and not _NOT_PRINTABLE_ASCII.search(value)


def _check_value(value: str) -> None:
    if not is_acceptable(value):
        raise InvalidRequestError(
            "Parameters must be printable ASCII (RFC 6749 Appendix A) and not too long."
        )


#: Headers proxies add: a request that carries one, even empty, did not come from this
#: machine itself.
_FORWARDED = (
    "HTTP_FORWARDED",
    "HTTP_VIA",
    "HTTP_X_REAL_IP",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_TRUE_CLIENT_IP",
)


def check_transport(request: HttpRequest) -> bool:
    """True if the request may carry OAuth credentials: https, a request made on this
    machine over loopback, or the ``ALLOW_INSECURE_TRANSPORT`` test setting.

    "On this machine" is decided by the peer address (``REMOTE_ADDR``) and the Host
    together, and never for a request a proxy forwarded: the Host header alone is the
    client's to write. Behind a TLS-terminating proxy, set Django's
    ``SECURE_PROXY_SSL_HEADER`` so ``request.is_secure()`` is right.
    """
    if request.is_secure() or oauthflow_settings.ALLOW_INSECURE_TRANSPORT:
        return True
    meta = request.META
    if any(h in meta for h in _FORWARDED) or any(h.startswith("HTTP_X_FORWARDED_") for h in meta):
        return False
    host, _port = split_domain_port(request.get_host())
    return is_loopback_host(host) and is_loopback_address(request.META.get("REMOTE_ADDR"))


def check_basic_authorization(header: str | None) -> str | None:
    """Reject an ``Authorization: Basic`` header that Authlib would choke on; the client_id
    it names if the request carries well-formed Basic credentials, else None.

    Authlib decodes it without catching non-UTF-8 bytes; a bad header must be
    ``invalid_client`` (401), never a 500.
    """
    if not header or " " not in header:
        return None  # Authlib ignores a header with no space in it
    parts = header.split(None, 1)
    if len(parts) != 2:
        raise _malformed_authorization()  # Authlib would fail to unpack it
    scheme, credentials = parts
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _malformed_authorization() from exc
    client_id, _, secret = decoded.partition(":")
    for value in (unquote(client_id), unquote(secret)):
        if not is_acceptable(value):
            raise _malformed_authorization()
    return unquote(client_id)


def _malformed_authorization() -> InvalidClientError:
    return InvalidClientError(status_code=401, description="Malformed Authorization header.")


class DjangoOAuth2Request(OAuth2Request):
    """Authlib's request, built from one parameter source chosen by the endpoint.

    The authorization endpoint reads the query string only (the consent form posts back
    to the same URL, so its POST body carries just the decision and the CSRF token); the
    token, revocation and introspection endpoints read the form body only, so a secret
    in a URL is never accepted.
    """

    def __init__(self, request: HttpRequest, payload: Payload):
        # Authlib's __init__ checks transport with an environment variable; we check it
        # per request with check_transport() instead, so set its attributes here.
        self.method = request.method
        self.uri = request.build_absolute_uri()
        self.headers = request.headers
        self._body = None
        self.payload = payload
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.django_request = request
        #: The code or refresh token this request used up: what it issues joins its family.
        self.consumed = None
        #: (AccessToken, RefreshToken or None) once the token response is stored.
        self.issued = None
        #: A retried refresh within the grace window: the unused pair's refresh token,
        #: superseded rather than rotated (oauthflow.server.grants.refresh_token).
        self.superseding = None

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data if self.method in ("GET", "HEAD") else {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


def form_payload(request: HttpRequest) -> Payload:
    """The form body of a POST to the token, revocation or introspection endpoint."""
    content_type = request.content_type or ""
    if content_type.lower() != "application/x-www-form-urlencoded":
        raise InvalidRequestError("The body must be application/x-www-form-urlencoded.")
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise InvalidRequestError("The request body is too large.") from exc
    payload = Payload(parse_params(body))
    repeated = payload.repeated()
    if repeated:
        # The name is not echoed: error_description must be plain ASCII (RFC 6749 §5.2).
        raise InvalidRequestError("A parameter is repeated.")
    basic_client_id = check_basic_authorization(request.headers.get("Authorization"))
    if basic_client_id is not None:
        if "client_secret" in payload.data:
            # RFC 6749 §2.3: one authentication method per request.
            raise InvalidRequestError("Use HTTP Basic or client_secret in the body, not both.")
        named = payload.data.get("client_id")
        if named is not None and named != basic_client_id:
            # The request would be authenticated as one client while naming another.
            raise InvalidRequestError("The client_id in the body is not the authenticated one.")
    return payload
