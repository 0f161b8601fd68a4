"""Claims: what a client may learn about the user (OpenID Connect Core §5).

Scopes ``profile``, ``email``, ``address`` and ``phone`` stand for the standard claims of
§5.4; the adapter's ``get_user_claims`` supplies the values. The ``claims`` request
parameter (§5.5) may ask for single standard claims beyond the scopes, for the ID token or
for UserInfo; the consent page lists those too. Nothing else is released.
"""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from django.utils.translation import gettext_lazy as _

from ..adapter import get_adapter
from ..scope import scope_to_list

#: The scopes OpenID Connect brings, with the words the consent page shows.
SCOPES = {
    "openid": _("Sign you in with your account on this site"),
    "profile": _("See your name and username"),
    "email": _("See your email address"),
    "address": _("See your postal address"),
    "phone": _("See your phone number"),
}

#: §5.4: the standard claims each scope asks for.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
#: What the consent page says for a standard claim asked for on its own.
CLAIM_WORDS = {
    "name": _("Your full name"),
    "family_name": _("Your family name"),
    "given_name": _("Your given name"),
    "middle_name": _("Your middle name"),
    "nickname": _("Your nickname"),
    "preferred_username": _("Your username"),
    "profile": _("The address of your profile page"),
    "picture": _("Your picture"),
    "website": _("Your website"),
    "gender": _("Your gender"),
    "birthdate": _("Your date of birth"),
    "zoneinfo": _("Your time zone"),
    "locale": _("Your language"),
    "updated_at": _("When your profile last changed"),
    "email": _("Your email address"),
    "email_verified": _("Whether your email address was checked"),
    "address": _("Your postal address"),
    "phone_number": _("Your phone number"),
    "phone_number_verified": _("Whether your phone number was checked"),
}
#: Every standard claim about the user, and the scope whose consent words cover it.
STANDARD_CLAIMS = {claim: scope for scope, names in SCOPE_CLAIMS.items() for claim in names}
#: Claims the server sets itself; a user claim of these names is never released.
PROTOCOL_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash"}
    | {"c_hash", "sid", "jti", "nbf", "events"}
)

#: Limits on the claims parameter: far above what a real request carries.
MAX_CLAIMS = 40
MAX_CLAIM_NAME = 64


def parse_claims_parameter(value: str | None) -> dict[str, dict[str, Any]]:
    """The ``claims`` parameter as ``{"userinfo": {...}, "id_token": {...}}``, or
    ``invalid_request``. Members other than those two are ignored (§5.5)."""
    if not value:
        return {}
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):  # deep nesting exhausts the stack: hostile
        raise InvalidRequestError("The claims parameter is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequestError("The claims parameter must be a JSON object.")
    parsed: dict[str, dict[str, Any]] = {}
    for target in ("userinfo", "id_token"):
        members = data.get(target)
        if members is None:
            continue
        if not isinstance(members, dict) or len(members) > MAX_CLAIMS:
            raise InvalidRequestError(f"The claims parameter's {target} member is malformed.")
        requests: dict[str, Any] = {}
        for name, spec in members.items():
            if len(name) > MAX_CLAIM_NAME or not (spec is None or isinstance(spec, dict)):
                raise InvalidRequestError(f"The claims parameter's {target} member is malformed.")
            if spec is not None and not _valid_spec(spec):
                raise InvalidRequestError(f"The claims parameter's {target} member is malformed.")
            requests[name] = spec
        parsed[target] = requests
    return parsed


def _valid_spec(spec: dict[str, Any]) -> bool:
    essential = spec.get("essential", False)
    values = spec.get("values", [])
    return isinstance(essential, bool) and isinstance(values, list) and len(values) <= MAX_CLAIMS


def extra_claims(requested: dict[str, dict[str, Any]], scope: str) -> list[str]:
    """Standard claims the claims parameter asks for beyond what ``scope`` covers."""
    granted = set(scope_to_list(scope))
    names = {n for members in requested.values() for n in members}
    return sorted(n for n in names if n in STANDARD_CLAIMS and STANDARD_CLAIMS[n] not in granted)


def user_claims(user: Any, scope: str, requested: dict[str, Any] | None = None) -> dict[str, Any]:
    """The claims to release about ``user``: those ``scope`` covers, and the standard
    claims in ``requested`` (one member of the claims parameter)."""
    adapter = get_adapter()
    claims = dict(adapter.get_user_claims(user, scope_to_list(scope)))
    wanted = [n for n in (requested or {}) if n in STANDARD_CLAIMS and n not in claims]
    if wanted:
        everything = adapter.get_user_claims(user, list(SCOPE_CLAIMS))
        claims.update({n: everything[n] for n in wanted if n in everything})
    return {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS}


def consent_details(grant: Any) -> list[str]:
    """Consent page lines for the claims asked for beyond the scopes."""
    if "openid" not in scope_to_list(grant.request.scope):
        return []
    try:
        requested = parse_claims_parameter(grant.request.payload.data.get("claims"))
    except InvalidRequestError:
        return []
    return [
        f"{CLAIM_WORDS[name]} ({name})" for name in extra_claims(requested, grant.request.scope)
    ]
