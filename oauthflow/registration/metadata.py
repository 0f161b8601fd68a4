"""Client metadata (RFC 7591 §2) in and out: a JSON document read into a ``Client``, and
a ``Client`` written back as one.

Every member is read with a check of its JSON type and size first, then the client is
validated by ``Client.full_clean()``, exactly as the admin validates it (redirect URIs,
grant types against the client type, the authentication method and its keys, scopes).
What only staff decide is never read from a client: ``skip_consent``,
``may_introspect``, resources, allowed origins, default scopes, the owner, and a sector
identifier URI (the server does not fetch it to check that it lists the client's
redirect URIs, OpenID Connect Core §8.1, so a client could claim another's sector and
see its users' pairwise ``sub``). Unknown members are ignored (§2).

URLs the server itself calls (``jwks_uri``, ``backchannel_logout_uri``) must lead to the
public internet (``check_destinations``, against SSRF); a pairwise client may not have a
grant that sends nothing to its redirect URIs, whose host is its sector; DPoP-bound
tokens and pushed requests, once on, stay on.

An ``error_description`` names the member and says what is wrong in a fixed sentence, or
in the model validator's own words when they are short printable ASCII; it never
carries request text the validators did not already vouch for.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from ..models import ID_TOKEN_ALGORITHMS, SECRET_AUTH_METHODS, SUBJECT_TYPES, Client
from ..outbound import public_host
from ..redirect_uris import is_loopback_host, validate_redirect_uri
from ..scope import known_scopes, list_to_scope, scope_to_list
from ..server.registry import registry
from ..settings import oauthflow_settings

#: Largest registration request body: real ones are a few hundred bytes; a JWK Set with
#: a few RSA keys is a few kilobytes.
MAX_BODY = 65_536
#: Most entries of a list member (redirect URIs, grant types...).
MAX_ITEMS = 32
#: Longest string member, besides those whose model field is shorter.
MAX_STRING = 2000
#: Longest JWK Set, as JSON.
MAX_JWKS = 32_768

_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
#: Characters never accepted in a name the consent page shows: controls, surrogates,
#: unassigned and private-use code points, and format characters (a right-to-left
#: override would make the page show another name than the one stored).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"})
#: Unicode's default-ignorable code points (DerivedCoreProperties.txt), which render as
#: nothing, or as blank space: a name of Hangul fillers (U+3164) looks empty, and one
#: with variation selectors or tags looks like another. Many are format characters (Cf)
#: already; these ranges catch the letters and marks among them too.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement
)
#: The device code grant: its tokens reach the client without anything sent to its
#: redirect URIs. Its grant class says so too (``NEEDS_REDIRECT_URI``); named here so a
#: replacement class cannot say otherwise (see ``_delivers_to_redirect_uris``).
_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


class RegistrationError(Exception):
    """An error response of the registration endpoints (RFC 7591 §3.2.2)."""

    def __init__(self, description: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _invalid(member: str, what: str) -> RegistrationError:
    error = "invalid_redirect_uri" if member == "redirect_uris" else "invalid_client_metadata"
    return RegistrationError(f"{member}: {what}", error)


# Reading the body -----------------------------------------------------------------------


def parse_document(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or ``RegistrationError``. Strict: UTF-8, no
    repeated member, no NaN or Infinity, a bounded depth."""
    if len(body) > MAX_BODY:
        raise RegistrationError("The registration request is too large.")
    try:
        document = json.loads(
            body.decode("utf-8"), object_pairs_hook=_no_repeats, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RegistrationError("The body is not a JSON object in UTF-8.") from exc
    if not isinstance(document, dict):
        raise RegistrationError("The body is not a JSON object in UTF-8.")
    return document


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("a repeated member")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


# Typed members ----------------------------------------------------------------------------

_ABSENT = object()


def _get(document: dict[str, Any], member: str) -> Any:
    """The member's value; absent and ``null`` alike mean "not given" (§2)."""
    value = document.get(member)
    return _ABSENT if value is None else value


def _text(document: dict[str, Any], member: str, max_length: int, *, ascii: bool = True) -> str:
    value = _get(document, member)
    if value is _ABSENT:
        return ""
    if not isinstance(value, str):
        raise _invalid(member, "must be a string.")
    if len(value) > max_length:
        raise _invalid(member, f"must be at most {max_length} characters.")
    if ascii and not _PRINTABLE_ASCII.fullmatch(value):
        raise _invalid(member, "must be printable ASCII.")
    if not ascii and any(_refused_character(c) for c in value):
        raise _invalid(member, "holds characters that are not allowed.")
    return value


def _refused_character(character: str) -> bool:
    if unicodedata.category(character) in _REFUSED_CATEGORIES:
        return True
    code = ord(character)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def _texts(document: dict[str, Any], member: str, max_length: int = MAX_STRING) -> list[str]:
    value = _get(document, member)
    if value is _ABSENT:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(member, "must be an array of strings.")
    if len(value) > MAX_ITEMS:
        raise _invalid(member, f"must have at most {MAX_ITEMS} entries.")
    for item in value:
        if len(item) > max_length or not _PRINTABLE_ASCII.fullmatch(item):
            raise _invalid(member, f"entries must be printable ASCII, at most {max_length} long.")
    if len(set(value)) != len(value):
        raise _invalid(member, "has an entry twice.")
    return list(value)


def _flag(document: dict[str, Any], member: str) -> bool:
    value = _get(document, member)
    if value is _ABSENT:
        return False
    if not isinstance(value, bool):
        raise _invalid(member, "must be true or false.")
    return value


def _choice(document: dict[str, Any], member: str, choices: list[str], default: str) -> str:
    value = _text(document, member, 100) or default
    if value not in choices:
        raise _invalid(member, f"must be one of {', '.join(choices)}.")
    return value


def _web_url(document: dict[str, Any], member: str, max_length: int) -> str:
    """An https URL without user information: a link or an image of the consent page, or
    a URL the server sends requests to. Plain http only to this machine, on a development
    site (DEBUG or ALLOW_INSECURE_TRANSPORT)."""
    value = _text(document, member, max_length)
    if value:
        _check_web_url(value, member)
    return value


def _check_web_url(value: str, member: str) -> None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise _invalid(member, _WEB_URL) from None
    if "@" in parts.netloc:
        # https://bank.example@evil.example/ reads as the bank's.
        raise _invalid(member, "must not hold user information (an @ before the host).")
    scheme = parts.scheme.lower()
    secure = scheme == "https" and bool(host)
    local = scheme == "http" and _development() and is_loopback_host(host)
    if not (secure or local):
        raise _invalid(member, _WEB_URL)


_WEB_URL = "must be an https URL (plain http only to this machine, in development)."


def _development() -> bool:
    return bool(settings.DEBUG or oauthflow_settings.ALLOW_INSECURE_TRANSPORT)


# The document read ------------------------------------------------------------------------


def auth_methods() -> list[str]:
    """The token_endpoint_auth_method values a client may register."""
    return ["none", *SECRET_AUTH_METHODS, *registry.confidential_auth_methods()]


def grant_types() -> list[str]:
    """The grant types a registered client may ask for: those served and allowed."""
    allowed = set(oauthflow_settings.REGISTRATION_GRANT_TYPES)
    return [g for g in registry.grant_types() if g in allowed]


def scopes() -> list[str]:
    """The scopes a registered client may be given."""
    allowed = oauthflow_settings.REGISTRATION_SCOPES
    known = known_scopes()
    return [s for s in known if allowed is None or s in allowed]


@dataclass
class Requested:
    """What a document asks for: values of ``Client`` fields, and the software."""

    fields: dict[str, Any] = field(default_factory=dict)
    software_id: str = ""
    software_version: str = ""


#: Model fields a registered client sets itself (the rest are staff's), with the
#: metadata member each comes from. On update, a member left out resets its field.
FIELD_MEMBERS: dict[str, str] = {
    "name": "client_name",
    "homepage_url": "client_uri",
    "logo_url": "logo_uri",
    "client_type": "token_endpoint_auth_method",
    "token_endpoint_auth_method": "token_endpoint_auth_method",
    "redirect_uris": "redirect_uris",
    "grant_types": "grant_types",
    "allowed_scopes": "scope",
    "jwks": "jwks",
    "jwks_uri": "jwks_uri",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "backchannel_logout_uri": "backchannel_logout_uri",
    "id_token_signed_response_alg": "id_token_signed_response_alg",
    "subject_type": "subject_type",
    "sector_identifier_uri": "sector_identifier_uri",
    "dpop_bound_access_tokens": "dpop_bound_access_tokens",
    "require_pushed_authorization_requests": "require_pushed_authorization_requests",
}


def read(document: dict[str, Any], current: Client | None = None) -> Requested:
    """The client ``document`` describes, checked member by member (types, sizes, the
    allowed values); ``current`` is the client being updated, if any. No query."""
    if "software_statement" in document:
        raise RegistrationError(
            "Software statements are not accepted here.", "unapproved_software_statement"
        )
    requested = Requested()
    values = requested.fields

    method = _text(document, "token_endpoint_auth_method", 40) or "client_secret_basic"
    if method not in auth_methods():
        raise _invalid("token_endpoint_auth_method", f"must be one of {', '.join(auth_methods())}.")
    values["token_endpoint_auth_method"] = method
    values["client_type"] = Client.PUBLIC if method == "none" else Client.CONFIDENTIAL

    redirect_uris = _texts(document, "redirect_uris")
    for uri in redirect_uris:
        _check(validate_redirect_uri, uri, "redirect_uris")
    values["redirect_uris"] = "\n".join(redirect_uris)

    grants = _texts(document, "grant_types", 200) or ["authorization_code"]
    if any(g not in grant_types() for g in grants):
        raise _invalid("grant_types", f"each must be one of {', '.join(grant_types())}.")
    values["grant_types"] = list_to_scope(grants)
    _check_response_types(document, grants)

    values["name"] = _text(document, "client_name", 200, ascii=False).strip()
    values["homepage_url"] = _web_url(document, "client_uri", 200)
    values["logo_url"] = _web_url(document, "logo_uri", 200)
    values["allowed_scopes"] = _scope(document)
    values["jwks"] = _jwks(document)
    values["jwks_uri"] = _web_url(document, "jwks_uri", 500)

    if apps.is_installed("oauthflow.oidc"):
        _read_openid(document, values, current)
        _check_pairwise(values, grants)
    # Hardening a client may turn on, never off: staff may have turned it on, and an
    # update sends the whole document (RFC 7592 §2.2), so leaving a member out must not
    # undo their decision.
    if apps.is_installed("oauthflow.dpop"):
        values["dpop_bound_access_tokens"] = _flag(document, "dpop_bound_access_tokens") or (
            current is not None and current.dpop_bound_access_tokens
        )
    if apps.is_installed("oauthflow.par"):
        values["require_pushed_authorization_requests"] = _flag(
            document, "require_pushed_authorization_requests"
        ) or (current is not None and current.require_pushed_authorization_requests)
    requested.software_id = _text(document, "software_id", 200)
    requested.software_version = _text(document, "software_version", 200)
    return requested


def _check_response_types(document: dict[str, Any], grants: list[str]) -> None:
    # RFC 7591 §2.1: "code" goes with authorization_code, both ways. Only the code flow
    # is served (no implicit, no hybrid).
    given = _texts(document, "response_types", 100)
    if _get(document, "response_types") is _ABSENT:
        return
    expected = ["code"] if "authorization_code" in grants else []
    if given != expected:
        raise _invalid(
            "response_types",
            'must be ["code"] with the authorization_code grant, and [] without it.',
        )


def _scope(document: dict[str, Any]) -> str:
    value = _text(document, "scope", MAX_STRING)
    asked = scope_to_list(value)
    allowed = scopes()
    if any(s not in allowed for s in asked):
        raise _invalid("scope", "names a scope this server does not give registered clients.")
    if asked:
        return list_to_scope(asked)
    # None asked: all a registered client may have now, named one by one. Empty would
    # mean every scope, those the server adds later included.
    if not allowed:
        raise _invalid("scope", "this server gives registered clients no scope.")
    return list_to_scope(allowed)


def _jwks(document: dict[str, Any]) -> str:
    value = _get(document, "jwks")
    if value is _ABSENT:
        return ""
    if not isinstance(value, dict):
        raise _invalid("jwks", 'must be a JWK Set: {"keys": [...]}.')
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    if len(text) > MAX_JWKS:
        raise _invalid("jwks", "is too large.")
    return text


def _read_openid(document: dict[str, Any], values: dict[str, Any], current: Client | None) -> None:
    logout_uris = _texts(document, "post_logout_redirect_uris")
    for uri in logout_uris:
        _check(validate_redirect_uri, uri, "post_logout_redirect_uris")
    values["post_logout_redirect_uris"] = "\n".join(logout_uris)
    backchannel = _text(document, "backchannel_logout_uri", MAX_STRING)
    if backchannel:
        _check(validate_redirect_uri, backchannel, "backchannel_logout_uri")
        _check_web_url(backchannel, "backchannel_logout_uri")
    values["backchannel_logout_uri"] = backchannel
    values["id_token_signed_response_alg"] = _choice(
        document,
        "id_token_signed_response_alg",
        [alg for alg, _ in ID_TOKEN_ALGORITHMS],
        "RS256",
    )
    values["subject_type"] = _choice(
        document, "subject_type", [kind for kind, _ in SUBJECT_TYPES], "public"
    )
    sector = _text(document, "sector_identifier_uri", 200)
    kept = current.sector_identifier_uri if current is not None else ""
    if sector and sector != kept:
        # Only staff set one (see the module's docstring); a client sending back the one
        # it was given (RFC 7592 §2.2: the whole document) keeps it.
        raise _invalid("sector_identifier_uri", "is set by the server's staff only.")
    values["sector_identifier_uri"] = kept


def _check_pairwise(values: dict[str, Any], grants: list[str]) -> None:
    """A pairwise client's sector is its redirect URIs' host (without a sector identifier
    URI, which only staff set). It proves it holds that host only by receiving codes
    there: with a grant that sends nothing to its redirect URIs it could name another
    client's host, share its sector, and see the same ``sub`` for each user."""
    if values["subject_type"] != "pairwise" or values["sector_identifier_uri"]:
        return
    blind = [g for g in grants if not _delivers_to_redirect_uris(g)]
    if blind:
        raise _invalid(
            "subject_type",
            f"pairwise is not available with the {', '.join(blind)} grant: it sends nothing "
            "to the redirect URIs, whose host names the client's sector.",
        )


def _delivers_to_redirect_uris(grant: str) -> bool:
    """Whether a client using ``grant`` must receive something at its redirect URIs.
    refresh_token counts as one: it only follows a grant that did."""
    if grant == "refresh_token":
        return True
    if grant == _DEVICE_CODE:
        return False
    grant_class = registry.grant_class(grant)
    return bool(grant_class is not None and grant_class.NEEDS_REDIRECT_URI)


def check_destinations(requested: Requested) -> None:
    """The URLs the server will send requests to on the client's behalf (its JWKS URI, its
    back-channel logout URI) must lead to the public internet only (SSRF): each host must
    resolve to public addresses only (``oauthflow.outbound.public_host``). On a
    development site (DEBUG or ALLOW_INSECURE_TRANSPORT) this machine passes too.

    Looks the names up in the DNS: call it outside any transaction. Fetches nothing."""
    for model_field in ("jwks_uri", "backchannel_logout_uri"):
        url = requested.fields.get(model_field) or ""
        if url and not _may_send_to(url):
            raise _invalid(
                FIELD_MEMBERS[model_field],
                "must name a host on the public internet: this one resolves to a private, "
                "loopback or reserved address, or to none.",
            )


def _may_send_to(url: str) -> bool:
    if _development() and is_loopback_host(urlsplit(url).hostname):
        return True
    return public_host(url)


def _check(validate: Callable[[str], None], value: str, member: str) -> None:
    """``validate(value)``; its error in its own words, the value itself left out."""
    try:
        with translation.override("en"):
            validate(value)
    except ValidationError as error:
        messages = [m.replace(value, "the URI") for m in error.messages]
        shown = _shown(messages[0][:1].upper() + messages[0][1:]) if messages else None
        raise _invalid(member, shown or _FIXED[member]) from error


# Validating as the admin does -------------------------------------------------------------

#: What each member must be, when the validator's own words cannot be shown.
_FIXED = {
    "redirect_uris": "each must be an absolute https URI without a fragment, or for a "
    "native app a loopback IP literal (http://127.0.0.1/...) or a private-use scheme "
    "(com.example.app:/...); at least one for the authorization_code grant.",
    "grant_types": "not allowed for a client with this token_endpoint_auth_method.",
    "token_endpoint_auth_method": "does not fit the client's other metadata.",
    "jwks": "is not a JWK Set of public keys this server can use.",
    "jwks_uri": "must be an https URL, and not sent with jwks.",
    "client_name": "is not a usable name.",
    "client_uri": "is not a valid https URL.",
    "logo_uri": "is not a valid https URL.",
    "scope": "names a scope this server does not know.",
    "post_logout_redirect_uris": "each must be an absolute https URI without a fragment.",
    "backchannel_logout_uri": "must be one absolute https URL without a fragment.",
    "id_token_signed_response_alg": "is not supported.",
    "subject_type": "does not fit the redirect URIs: a pairwise client's must share one host.",
    "sector_identifier_uri": "is set by the server's staff only.",
    "dpop_bound_access_tokens": "is not valid.",
    "require_pushed_authorization_requests": "is not valid.",
}
#: What staff set and a client's update may conflict with.
_STAFF_FIELDS = {
    "skip_consent": "The server's staff let this client skip consent, which a native app "
    "cannot: ask them before using these redirect URIs.",
    "allowed_origins": "The server's staff gave this client allowed origins, which only a "
    "public client can have: ask them before changing its authentication.",
    "default_scopes": "scope: the client's default scopes, set by the server's staff, "
    "must stay within it.",
}


def validate(client: Client) -> None:
    """``Client.full_clean()``, as the admin calls it; its first error as a
    ``RegistrationError`` naming the member at fault."""
    try:
        with translation.override("en"):
            client.full_clean(exclude=["owner"])
    except ValidationError as error:
        by_field = error.message_dict if hasattr(error, "error_dict") else {}
        for model_field, messages in by_field.items():
            if model_field in _STAFF_FIELDS:
                raise RegistrationError(_STAFF_FIELDS[model_field]) from error
            member = FIELD_MEMBERS.get(model_field)
            if member is not None:
                shown = _shown(messages[0]) if messages else None
                raise _invalid(member, shown or _FIXED[member]) from error
        # A non-field error, or a field no member sets: nothing the client can act on by
        # name, and nothing of the request to show.
        raise RegistrationError("The client metadata is not valid.") from error


def _shown(message: str) -> str | None:
    """A validator's message if it may go in ``error_description`` (RFC 6749 §5.2:
    printable ASCII, no quote or backslash), else None."""
    # The typography of the model's messages, in ASCII.
    message = message.replace("\u00a7", "Section ").replace("\u2026", "...")
    if len(message) > 300 or not re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]*", message):
        return None
    return message


# Writing it out ---------------------------------------------------------------------------


def apply(client: Client, requested: Requested) -> None:
    """Set ``client``'s client-managed fields to ``requested``; the rest stay as they are."""
    for name, value in requested.fields.items():
        setattr(client, name, value)
    if not client.name:
        client.name = client.client_id  # the consent page needs a name; this one is honest


def describe(client: Client, *, software_id: str = "", software_version: str = "") -> dict:
    """The client's metadata as registered (RFC 7591 §3.2.1), without any credential."""
    grants = client.grant_type_list
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "token_endpoint_auth_method": client.auth_methods[0],
        "grant_types": grants,
        "response_types": ["code"] if "authorization_code" in grants else [],
        "redirect_uris": client.redirect_uri_list,
    }
    if client.uses_secret:
        body["client_secret_expires_at"] = 0  # a secret does not expire
    optional = {
        "client_uri": client.homepage_url,
        "logo_uri": client.logo_url,
        "scope": client.allowed_scopes,
        "jwks": json.loads(client.jwks) if client.jwks.strip() else "",
        "jwks_uri": client.jwks_uri,
        "software_id": software_id,
        "software_version": software_version,
    }
    if apps.is_installed("oauthflow.oidc"):
        body["id_token_signed_response_alg"] = client.id_token_signed_response_alg
        body["subject_type"] = client.subject_type
        optional["post_logout_redirect_uris"] = client.post_logout_redirect_uris.split()
        optional["backchannel_logout_uri"] = client.backchannel_logout_uri
        optional["sector_identifier_uri"] = client.sector_identifier_uri
    if apps.is_installed("oauthflow.dpop"):
        body["dpop_bound_access_tokens"] = client.dpop_bound_access_tokens
    if apps.is_installed("oauthflow.par"):
        body["require_pushed_authorization_requests"] = client.require_pushed_authorization_requests
    body.update({name: value for name, value in optional.items() if value})
    return body
