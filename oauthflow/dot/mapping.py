"""One DOT row in, oauthflow's fields out, with a note for each thing that had to change.

Rules (docs/from-dot.md explains each):

* An application keeps its client_id, type, owner, name and skip_authorization (as
  skip_consent, unless oauthflow's rules forbid it), and gets DOT's DEFAULT_SCOPES as its
  default scopes, so a request naming no scope gets what it got from DOT. Its one grant
  type becomes oauthflow's grant types; grants oauthflow refuses (implicit, password) or
  does not have yet (device, OpenID Connect hybrid) become the authorization code grant,
  so the app's tokens keep working while it moves, and the report names it.
* A secret DOT stored in clear is stored as oauthflow stores secrets (its SHA-256). A
  secret DOT hashed (its default since 2.0) cannot be recovered: it is kept as
  ``legacy_secret_hash`` and checked with Django's password hashers until the client first
  authenticates, when it is replaced by the SHA-256 form (``Client.check_client_secret``).
* Redirect URIs oauthflow refuses (plain http to a host that is not loopback,
  ``localhost``, fragments, wildcards...) are dropped, and the report names them.
* A token or code DOT stored in clear is stored as its SHA-256; one DOT stored only as its
  checksum (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE) is the same SHA-256 and is kept as is.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError

from .. import tokens
from ..models import Client, GrantType
from ..redirect_uris import validate_redirect_uri

_AUTHORIZATION_CODE = [str(GrantType.AUTHORIZATION_CODE), str(GrantType.REFRESH_TOKEN)]

#: DOT's authorization_grant_type values: oauthflow's grant types, and why they changed.
GRANTS: dict[str, tuple[list[str], str]] = {
    "authorization-code": (_AUTHORIZATION_CODE, ""),
    "client-credentials": ([str(GrantType.CLIENT_CREDENTIALS)], ""),
    "password": (
        _AUTHORIZATION_CODE,
        "used the password grant, which oauthflow refuses (RFC 9700 §2.4): its refresh "
        "tokens keep working; new sign-ins need the authorization code flow with PKCE",
    ),
    "implicit": (
        _AUTHORIZATION_CODE,
        "used the implicit grant, which oauthflow refuses (RFC 9700 §2.1.2): its access "
        "tokens work until they expire; it must move to the authorization code flow "
        "with PKCE",
    ),
    "openid-hybrid": (
        _AUTHORIZATION_CODE,
        "used OpenID Connect's hybrid flow; oauthflow has no OpenID Connect yet, so it "
        "gets the authorization code grant",
    ),
    "urn:ietf:params:oauth:grant-type:device_code": (
        _AUTHORIZATION_CODE,
        "used the device grant, which oauthflow does not have yet: its refresh tokens "
        "keep working, new devices cannot sign in until it has",
    ),
}

_CHECKSUM = re.compile(r"[0-9a-f]{64}")
# Django's encoded form: "<algorithm>$<fields>" (argon2 and bcrypt's have more "$"s).
_DJANGO_HASH = re.compile(r"([a-z0-9_]+)\$.+", re.DOTALL)
# The algorithms of the hashers Django has shipped: a secret in clear that happens to
# hold a "$" is not mistaken for a hash.
_DJANGO_ALGORITHMS = {
    "pbkdf2_sha256",
    "pbkdf2_sha1",
    "argon2",
    "bcrypt_sha256",
    "bcrypt",
    "scrypt",
    "sha1",
    "md5",
    "unsalted_sha1",
    "unsalted_md5",
    "crypt",
}
#: The hint of a secret known only by DOT's hash.
LEGACY_HINT = "(DOT hash)"
#: How the hint of an imported token or code starts (oauthflow's own start "of").
IMPORTED_HINT = "dot_…"
#: oauthflow's client_id column.
_CLIENT_ID_MAX: int = getattr(Client._meta.get_field("client_id"), "max_length", None) or 100


def client_from_application(
    app: dict[str, Any], *, owner_exists: bool, default_scopes: list[str]
) -> tuple[Client, list[str]]:
    """An unsaved Client for a DOT application, and what the person importing should know.

    ``default_scopes`` are DOT's DEFAULT_SCOPES: what a request naming no scope got there.
    """
    notes: list[str] = []
    grant_type = app.get("authorization_grant_type") or ""
    if grant_type in GRANTS:
        grant_types, why = GRANTS[grant_type]
        if why:
            notes.append(why)
    else:
        grant_types = _AUTHORIZATION_CODE
        notes.append(f"had the grant type {grant_type!r}, unknown to oauthflow")
    client_type = app.get("client_type")
    if client_type not in (Client.CONFIDENTIAL, Client.PUBLIC):
        notes.append(f"had the client type {client_type!r}; it is now confidential")
        client_type = Client.CONFIDENTIAL

    redirect_uris = []
    for uri in str(app.get("redirect_uris") or "").split():
        try:
            validate_redirect_uri(uri)
        except ValidationError as exc:
            notes.append(f"redirect URI dropped: {' '.join(exc.messages)}")
        else:
            redirect_uris.append(uri)

    client = Client(
        client_id=app["client_id"],
        name=(app.get("name") or app["client_id"])[:200],
        client_type=client_type,
        redirect_uris="\n".join(redirect_uris),
        grant_types=" ".join(grant_types),
        skip_consent=bool(app.get("skip_authorization")),
        default_scopes=" ".join(default_scopes),
        owner_id=app.get("user_id") if owner_exists else None,
    )
    if app.get("user_id") is not None and not owner_exists:
        notes.append("its owner (a user) was not found; it has no owner")
    if app.get("created"):
        client.created_at = app["created"]
    notes += _set_secret(client, app)
    notes += _check(client)
    for name, what in (
        ("post_logout_redirect_uris", "post-logout redirect URIs (OpenID Connect)"),
        ("allowed_origins", "allowed origins (CORS)"),
        ("algorithm", "an ID token signing algorithm (OpenID Connect)"),
    ):
        if str(app.get(name) or "").strip():
            notes.append(f"had {what}, which oauthflow does not have yet")
    return client, notes


def _set_secret(client: Client, app: dict[str, Any]) -> list[str]:
    secret = app.get("client_secret") or ""
    if not client.is_confidential:
        return []
    if not secret:
        return ["is confidential but had no secret: rotate one (oauthflow_client rotate-secret)"]
    # As DOT decides at each check, whatever hash_client_secret says: a hash is a hash
    # (a secret saved while the flag was on stays hashed after it is turned off). A hash
    # by a Django hasher this site lacks is recognised by its algorithm's name.
    algorithm = _hash_algorithm(secret)
    if algorithm is None:
        # DOT stored it in clear (hash_client_secret off, or a secret from before DOT 2).
        client.secret_digest = tokens.digest(secret)
        client.secret_hint = tokens.hint(secret)
        return []
    client.legacy_secret_hash = secret
    # What the admin and `oauthflow_client show` print until the first sign-in replaces it.
    client.secret_hint = LEGACY_HINT
    try:
        identify_hasher(secret)
    except ValueError:
        return [
            f"has a secret DOT hashed with {algorithm!r}, a hasher not in this site's "
            "PASSWORD_HASHERS: add it there, or rotate the secret; until then the client "
            "cannot authenticate"
        ]
    return [
        f"has a secret DOT hashed ({algorithm}): checked that way until its first "
        "token request, then stored as oauthflow stores secrets"
    ]


def _hash_algorithm(secret: str) -> str | None:
    """The algorithm of a Django password hash (``pbkdf2_sha256$...``), or None for a
    secret in clear. A hash whose hasher this site lacks is still a hash: taking it for a
    clear secret would make the hash itself the secret."""
    try:
        return str(identify_hasher(secret).algorithm)
    except ValueError:
        match = _DJANGO_HASH.fullmatch(secret)
        return match.group(1) if match and match.group(1) in _DJANGO_ALGORITHMS else None


def _check(client: Client) -> list[str]:
    """oauthflow's own rules for a client. A client that breaks one is still imported (its
    tokens must keep working); the note says what to fix, and skip_consent is dropped
    rather than kept against the rule."""
    try:
        client.full_clean(exclude=["client_id"], validate_unique=False)
    except ValidationError as exc:
        errors = exc.message_dict
    else:
        return []
    notes = []
    if "skip_consent" in errors:
        client.skip_consent = False
        notes.append("skip_authorization dropped: " + " ".join(errors.pop("skip_consent")))
    for field, messages in errors.items():
        notes.append(f"{field}: {' '.join(messages)}")
    return notes


def credential(row: dict[str, Any], field: str) -> tuple[str, str] | None:
    """(digest, hint) for a DOT token or code, or None when it cannot be used here.

    The hint starts with IMPORTED_HINT: it says where the row came from, and lets a later
    run find the rows it imported (``Importer._withdraw``).
    """
    value = row.get(field) or ""
    if value:
        if not tokens.is_plausible(value):
            return None  # oauthflow refuses such a value before looking it up
        return tokens.digest(value), IMPORTED_HINT + value[-4:]
    checksum = row.get("token_checksum") or ""
    if _CHECKSUM.fullmatch(checksum):
        # DOT's checksum is the SHA-256 of the token, exactly oauthflow's digest.
        return checksum, IMPORTED_HINT
    return None


def map_scope(scope: str, scope_map: dict[str, str]) -> str:
    """A scope string with names renamed (``--scope old=new``) or dropped (``old=``)."""
    mapped = (scope_map.get(name, name) for name in scope.split())
    return " ".join(dict.fromkeys(name for name in mapped if name))


def application_refusal(app: dict[str, Any]) -> str | None:
    """Why a DOT application cannot become a client here, or None."""
    client_id = app.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        return "no client_id"
    if len(client_id) > _CLIENT_ID_MAX:
        return f"a client_id longer than {_CLIENT_ID_MAX} characters"
    return None
