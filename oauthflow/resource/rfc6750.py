"""The Bearer scheme (RFC 6750): finding the token in a request, and its challenge.

* The token comes from ``Authorization: Bearer <token>`` (§2.1). The scheme is matched
  in any case and may be followed by several spaces (RFC 9110 §11.4). Another scheme
  (``Basic``, ``Token``) is not ours: it counts as no bearer credentials.
* A form-encoded body parameter (§2.2) is read only when
  ``OAUTHFLOW["ALLOW_FORM_BODY_TOKEN"]`` is on, and only from a POST whose content type
  is ``application/x-www-form-urlencoded``.
* The URI query parameter (§2.3) is never read: URLs end up in logs, histories and
  Referer headers (RFC 9700 §4.3.2).
* Every header is hostile input: a value that breaks the grammar is an ``invalid_token``
  answer, never an exception that escapes as a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest

from ..settings import oauthflow_settings
from .errors import InvalidRequest, InvalidToken
from .schemes import Scheme

# b64token (§2.1), and a length far above any token we issue, checked first so a huge
# header costs nothing.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_MAX_CREDENTIAL_LENGTH = 1024
# auth-scheme, whitespace, the rest; RFC 9110 allows only spaces, tabs are tolerated.
_CREDENTIALS = re.compile(r"([^ \t]+)(?:[ \t]+(.*))?", re.DOTALL)
# What may appear in a quoted challenge parameter (RFC 6750 §3 limits error_description
# and scope to printable ASCII without " and \; we escape those two in the realm).
_UNSAFE = re.compile(r"[^\x20-\x7e]")


class BearerScheme(Scheme):
    """``Authorization: Bearer``, and the form body when the site allows it."""

    name: ClassVar[str] = "Bearer"

    def credentials(self, request: HttpRequest) -> str | None:
        return bearer_token(request)

    def check(self, request: HttpRequest, token: Any) -> None:
        # A token bound to a key works only with a proof of it (RFC 9449 §7.1), whether
        # or not this site accepts DPoP.
        if getattr(token, "jkt", ""):
            raise InvalidToken("This access token is bound to a DPoP key: use the DPoP scheme.")

    def challenge(
        self,
        *,
        error: str | None = None,
        description: str | None = None,
        scopes: Iterable[str] = (),
    ) -> str:
        return challenge(error=error, description=description, scopes=scopes)


def challenge(
    *, error: str | None = None, description: str | None = None, scopes: Iterable[str] = ()
) -> str:
    """A ``WWW-Authenticate: Bearer`` challenge with the realm from ``OAUTHFLOW["REALM"]``."""
    params = [("realm", oauthflow_settings.REALM)]
    if error:
        params.append(("error", error))
    if description:
        params.append(("error_description", description))
    scope = " ".join(scopes)
    if scope:
        params.append(("scope", scope))
    return format_challenge("Bearer", params)


def format_challenge(scheme: str, params: list[tuple[str, str]]) -> str:
    """``scheme name="value", ...``, each value quoted safely (any scheme's challenge)."""
    return scheme + " " + ", ".join(f'{name}="{_quote(value)}"' for name, value in params)


def _quote(value: str) -> str:
    return _UNSAFE.sub("", value).replace("\\", "\\\\").replace('"', '\\"')


def bearer_token(request: HttpRequest) -> str | None:
    """The access token the request presents, or None if it presents none.

    Raises InvalidToken for a malformed one, InvalidRequest for one sent twice.
    """
    from_header = _from_header(request)
    from_body = _from_body(request)
    if from_header is not None and from_body is not None:
        raise InvalidRequest("Send the access token in one place only (RFC 6750 section 2).")
    return from_header if from_header is not None else from_body


def _from_header(request: HttpRequest) -> str | None:
    return credentials_in_header(
        request,
        "Bearer",
        max_length=_MAX_CREDENTIAL_LENGTH,
        description="The Authorization header is not a valid Bearer token.",
    )


def credentials_in_header(
    request: HttpRequest, scheme: str, *, max_length: int, description: str
) -> str | None:
    """The token of an ``Authorization: <scheme> <token>`` header (any scheme), or None
    when the header names another scheme; InvalidToken (``description``) for a token
    that is not a b64token of at most ``max_length`` characters."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if not header:
        return None
    match = _CREDENTIALS.fullmatch(header.strip(" \t"))
    if match is None or match[1].lower() != scheme.lower():
        return None
    return _well_formed(match[2] or "", description, max_length)


def _from_body(request: HttpRequest) -> str | None:
    if not (
        oauthflow_settings.ALLOW_FORM_BODY_TOKEN
        and request.method == "POST"
        and request.content_type == "application/x-www-form-urlencoded"
    ):
        return None
    # Keep the token out of Django's error reports, as the Authorization header is.
    hidden = getattr(request, "sensitive_post_parameters", None)
    if hidden != "__ALL__":
        setattr(request, "sensitive_post_parameters", [*(hidden or []), "access_token"])  # noqa: B010
    values = request.POST.getlist("access_token")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest("Send the access_token parameter once.")
    return _well_formed(
        values[0], "The access_token parameter is not a valid token.", _MAX_CREDENTIAL_LENGTH
    )


def _well_formed(value: str, description: str, max_length: int) -> str:
    value = value.strip(" \t")
    if len(value) > max_length or not _B64TOKEN.fullmatch(value):
        raise InvalidToken(description)
    return value
