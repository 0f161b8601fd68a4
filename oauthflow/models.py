"""What the authorization server keeps (names from RFC 6749).

Codes, tokens and client secrets are stored as digests only; ``oauthflow.tokens`` owns
that format. Everything issued from one authorization shares a ``family`` UUID, so
"revoke this authorization" and "refresh token reuse detected" are each one UPDATE.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import tokens
from .formats.base import GrantedToken
from .redirect_uris import match_redirect_uri, validate_redirect_uri
from .scope import is_valid_scope_token, known_scopes, list_to_scope, scope_to_list
from .settings import oauthflow_settings
from .store.validity import in_force

#: A secret imported from django-oauth-toolkit this long or longer is taken to be random
#: (DOT makes 128 characters) and moves to the fast digest at its first use.
_STRONG_SECRET_LENGTH = 32


class GrantType(models.TextChoices):
    """The grant types oauthflow ships. What a server serves is the registry's list
    (``oauthflow.server.registry``), which a capability may extend."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"


def _registry() -> Any:
    # Read at call time: the registry belongs to the server, built on top of the models.
    from .server.registry import registry

    return registry


def _validate_redirect_uris(value: str) -> None:
    errors = []
    for uri in value.split():
        try:
            validate_redirect_uri(uri)
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def _validate_grant_types(value: str) -> None:
    known = _registry().grant_types()
    unknown = [g for g in value.split() if g not in known]
    if unknown:
        raise ValidationError(
            _("Unknown grant type(s): %(unknown)s. Choose from %(known)s."),
            params={"unknown": ", ".join(unknown), "known": ", ".join(known)},
        )


def _validate_scopes(value: str) -> None:
    bad = [s for s in value.split() if not is_valid_scope_token(s)]
    if bad:
        raise ValidationError(_("Invalid scope name(s): %(bad)s."), params={"bad": ", ".join(bad)})


#: ID token signing algorithms a client may be given (never ``none``).
ID_TOKEN_ALGORITHMS = [("RS256", "RS256"), ("ES256", "ES256")]
SUBJECT_TYPES = [("public", _("public")), ("pairwise", _("pairwise"))]


def _validate_backchannel_logout_uri(value: str) -> None:
    # The same rules as a redirect URI (absolute, no fragment, https or loopback http),
    # and one URI only.
    if len(value.split()) > 1:
        raise ValidationError(_("Only one back-channel logout URI."))
    if value:
        validate_redirect_uri(value)
        if not value.lower().startswith(("https://", "http://")):
            raise ValidationError(_("A back-channel logout URI is an http(s) URL."))


def _validate_jwks(value: str) -> None:
    from .client_keys import InvalidKeySet, parse_jwks

    if value.strip():
        try:
            parse_jwks(value)
        except InvalidKeySet as error:
            raise ValidationError(str(error)) from error


def _validate_origins(value: str) -> None:
    from .redirect_uris import origin_problem

    problems = [p for p in (origin_problem(o) for o in value.split()) if p]
    if problems:
        raise ValidationError(problems)


#: How a client authenticates without the registry's extra methods (RFC 7591 §2).
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def new_family_id() -> uuid.UUID:
    """A fresh family id, time-ordered in the manner of UUIDv7 (RFC 9562 §5.7).

    48 bits of milliseconds then 74 random bits: new ids sort after old ones, so the
    family index grows at its end instead of taking writes on random pages, which
    matters once the token tables hold millions of rows. Not a secret: ids only group
    rows.
    """
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return uuid.UUID(int=value)


class LookupQuerySet(models.QuerySet):
    def find(self, **unique_lookup: Any) -> Any:
        """The one row matching a lookup on a unique column, or None.

        Unlike ``.first()`` it adds no ORDER BY, which a row the unique index already pins
        down does not need. The hot paths use ``oauthflow.lookups`` instead.
        """
        try:
            return self.get(**unique_lookup)
        except ObjectDoesNotExist:
            return None


def _validate_resource_identifier(value: str) -> None:
    # RFC 8707 §2: an absolute URI without a fragment, and printable ASCII like every
    # parameter a request carries.
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # "https://[::1/"
        raise ValidationError(_("A resource identifier is an absolute URI.")) from exc
    if not value.isascii() or not value.isprintable() or " " in value:
        raise ValidationError(_("A resource identifier is printable ASCII without spaces."))
    if not parts.scheme or not parts.netloc or "#" in value:
        raise ValidationError(_("A resource identifier is an absolute URI without a fragment."))


class Resource(models.Model):
    """An API that accepts this server's access tokens (a resource server), named by its
    identifier (RFC 8707): clients ask for tokens for it with ``resource=``, and its tokens
    name it in ``aud``. It says which scopes it takes and which format its tokens have."""

    OPAQUE = "opaque"
    JWT = "jwt"
    FORMATS = [
        (OPAQUE, _("Opaque (checked in the database)")),
        (JWT, _("JWT (RFC 9068: checked by the API alone)")),
    ]

    identifier = models.CharField(
        _("identifier"),
        max_length=255,
        validators=[_validate_resource_identifier],
        help_text=_("The API's URI, e.g. https://api.example.com/; tokens name it in aud."),
    )
    name = models.CharField(_("name"), max_length=200)
    scopes = models.TextField(
        _("scopes"),
        blank=True,
        validators=[_validate_scopes],
        help_text=_("Space-separated scopes a token for this API carries; empty means all."),
    )
    token_format = models.CharField(
        _("token format"), max_length=10, choices=FORMATS, default=OPAQUE
    )
    signing_alg = models.CharField(
        _("signing algorithm"),
        max_length=10,
        choices=ID_TOKEN_ALGORITHMS,
        default="RS256",
        help_text=_("JWT access tokens only. ES256 signs about four times faster."),
    )
    access_token_lifetime = models.PositiveIntegerField(
        _("access token lifetime"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 3600)],
        help_text=_(
            "Seconds. Empty: JWT_ACCESS_TOKEN_LIFETIME for JWTs, ACCESS_TOKEN_LIFETIME "
            "for opaque tokens."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        constraints = [
            models.UniqueConstraint(fields=["identifier"], name="oauthflow_resource_identifier")
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def scope_list(self) -> list[str]:
        return scope_to_list(self.scopes)

    def clean(self) -> None:
        known = known_scopes()
        unknown = [s for s in self.scope_list if s not in known]
        if unknown:
            raise ValidationError(
                {
                    "scopes": gettext("Unknown scope(s): %(unknown)s. Known: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(known)}
                }
            )


class ClientQuerySet(LookupQuerySet):
    def active(self) -> ClientQuerySet:
        return self.filter(is_active=True)


class Client(models.Model):
    """A registered OAuth client (RFC 6749 §2).

    Multi-valued fields (redirect URIs, grant types, scopes) are stored space-separated:
    none of their values may contain a space, and a text column keeps one schema on
    every database. Use the ``*_list`` properties to read them.
    """

    CONFIDENTIAL = "confidential"
    PUBLIC = "public"
    CLIENT_TYPES = [
        (CONFIDENTIAL, _("Confidential (has a secret)")),
        (PUBLIC, _("Public (no secret: native or browser app)")),
    ]

    client_id = models.CharField(
        _("client ID"), max_length=100, default=tokens.generate_client_id, editable=False
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Shown to users on the consent page.")
    )
    homepage_url = models.URLField(_("homepage URL"), blank=True)
    logo_url = models.URLField(_("logo URL"), blank=True)
    client_type = models.CharField(
        _("client type"), max_length=20, choices=CLIENT_TYPES, default=CONFIDENTIAL
    )
    secret_digest = models.CharField(_("secret digest"), max_length=64, blank=True, editable=False)
    secret_hint = models.CharField(_("secret hint"), max_length=20, blank=True, editable=False)
    # A secret imported from django-oauth-toolkit, which stored it with Django's password
    # hashers: checked that way until the client's first successful authentication, which
    # replaces it with a secret_digest (oauthflow_import_dot; docs/from-dot.md).
    legacy_secret_hash = models.CharField(
        _("legacy secret hash"), max_length=256, blank=True, editable=False
    )
    redirect_uris = models.TextField(
        _("redirect URIs"),
        blank=True,
        validators=[_validate_redirect_uris],
        help_text=_("One per line. Requests must match one exactly."),
    )
    grant_types = models.CharField(
        _("grant types"),
        max_length=200,
        # Blank is allowed here and refused by clean() unless the client may introspect.
        blank=True,
        default=f"{GrantType.AUTHORIZATION_CODE} {GrantType.REFRESH_TOKEN}",
        validators=[_validate_grant_types],
        help_text=_("Space-separated grant types the client may use."),
    )
    allowed_scopes = models.TextField(
        _("allowed scopes"),
        blank=True,
        validators=[_validate_scopes],
        help_text=_("Space-separated scopes this client may ask for; empty means all."),
    )
    default_scopes = models.TextField(
        _("default scopes"),
        blank=True,
        validators=[_validate_scopes],
        help_text=_("Space-separated scopes granted when the client asks for none."),
    )
    skip_consent = models.BooleanField(
        _("skip consent"),
        default=False,
        help_text=_("First-party apps only: never show the consent page."),
    )
    may_introspect = models.BooleanField(
        _("may introspect"),
        default=False,
        help_text=_("May call the token introspection endpoint (RFC 7662)."),
    )
    # OpenID Connect (oauthflow.oidc): registration metadata, as in OpenID Connect
    # Dynamic Client Registration 1.0 §2 and the logout specifications.
    post_logout_redirect_uris = models.TextField(
        _("post-logout redirect URIs"),
        blank=True,
        validators=[_validate_redirect_uris],
        help_text=_(
            "One per line. After signing out at the provider, the user may be sent back "
            "to one of these (exact match)."
        ),
    )
    backchannel_logout_uri = models.TextField(
        _("back-channel logout URI"),
        blank=True,
        validators=[_validate_backchannel_logout_uri],
        help_text=_(
            "Where the provider POSTs a logout token when the user's session ends "
            "(OpenID Connect Back-Channel Logout 1.0)."
        ),
    )
    id_token_signed_response_alg = models.CharField(
        _("ID token signing algorithm"),
        max_length=10,
        choices=ID_TOKEN_ALGORITHMS,
        default="RS256",
    )
    subject_type = models.CharField(
        _("subject type"),
        max_length=10,
        choices=SUBJECT_TYPES,
        default="public",
        help_text=_(
            "Public: the same sub for every client. Pairwise: a sub of its own for the "
            "client's sector, so clients cannot link their users (OpenID Connect Core §8)."
        ),
    )
    sector_identifier_uri = models.URLField(
        _("sector identifier URI"),
        blank=True,
        help_text=_(
            "Pairwise only: clients with the same sector (this URI's host) see the same "
            "sub. Empty: the host of the redirect URIs, which must then share one host."
        ),
    )
    require_pushed_authorization_requests = models.BooleanField(
        _("pushed requests only"),
        default=False,
        help_text=_(
            "Refuse this client's authorization requests unless pushed first (RFC 9126 §6; "
            "needs oauthflow.par)."
        ),
    )
    dpop_bound_access_tokens = models.BooleanField(
        _("DPoP-bound tokens only"),
        default=False,
        help_text=_(
            "Refuse token requests from this client without a DPoP proof, so its tokens "
            "are always bound to its key (RFC 9449 §5.2; needs oauthflow.dpop)."
        ),
    )
    # How the client authenticates (RFC 7591 §2). Blank: from the client type, as before
    # this field existed (a secret, Basic or POST; or none for a public client).
    token_endpoint_auth_method = models.CharField(
        _("authentication method"),
        max_length=40,
        blank=True,
        help_text=_(
            "Blank: client_secret_basic or client_secret_post for a confidential client, "
            "none for a public one. private_key_jwt: a signed assertion, verified with the "
            "keys below (RFC 7523; needs oauthflow.private_key_jwt)."
        ),
    )
    jwks = models.TextField(
        _("public keys (JWK Set)"),
        blank=True,
        validators=[_validate_jwks],
        help_text=_('The client\'s public keys as JSON: {"keys": [...]}. Or a JWKS URI.'),
    )
    jwks_uri = models.URLField(
        _("JWKS URI"),
        max_length=500,
        blank=True,
        help_text=_("Where the provider fetches the client's public keys (https)."),
    )
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        validators=[_validate_origins],
        help_text=_(
            "Web origins (https://app.example) whose pages may call the token, revocation "
            "and UserInfo endpoints (CORS), one per line. Public clients only. Empty: the "
            "origins of the https and loopback redirect URIs."
        ),
    )
    resources = models.ManyToManyField(
        Resource,
        verbose_name=_("resources"),
        blank=True,
        related_name="clients",
        help_text=_("APIs this client may ask for tokens for (resource=, RFC 8707)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="oauthflow_clients",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        # Redirect URIs, skip_consent and may_introspect decide who receives codes and what
        # a client learns about tokens: changing them is worth more than change_client.
        permissions = [
            (
                "change_client_trust",
                "Can change a client's redirect URIs, consent skipping and introspection",
            )
        ]
        # A constraint, not unique=True: on PostgreSQL that would add a second,
        # never-used varchar_pattern_ops index for LIKE queries.
        constraints = [
            models.UniqueConstraint(fields=["client_id"], name="oauthflow_client_id_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.client_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Normalise whitespace so one URI per line and space-separated both work.
        self.redirect_uris = "\n".join(self.redirect_uri_list)
        self.post_logout_redirect_uris = "\n".join(self.post_logout_redirect_uris.split())
        self.grant_types = list_to_scope(self.grant_type_list)
        self.allowed_scopes = list_to_scope(scope_to_list(self.allowed_scopes))
        self.default_scopes = list_to_scope(scope_to_list(self.default_scopes))
        if not self.uses_secret:
            # A public client, or one that authenticates with keys: a secret left behind
            # would be one more credential to leak, and would never be accepted.
            self.secret_digest = ""
            self.secret_hint = ""
            self.legacy_secret_hash = ""
        super().save(*args, **kwargs)

    # Multi-valued fields ------------------------------------------------------------------

    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()

    @property
    def grant_type_list(self) -> list[str]:
        return self.grant_types.split()

    @property
    def allowed_scope_list(self) -> list[str]:
        """The scopes this client may request: its own list, or every known scope."""
        return scope_to_list(self.allowed_scopes) or list(known_scopes())

    @property
    def default_scope_list(self) -> list[str]:
        return scope_to_list(self.default_scopes) or list(oauthflow_settings.DEFAULT_SCOPES)

    @property
    def is_confidential(self) -> bool:
        return self.client_type == self.CONFIDENTIAL

    def is_native_redirect(self, redirect_uri: str) -> bool:
        """Whether a redirect to ``redirect_uri`` reaches a native app whose identity
        nothing assures: a public client's loopback or private-use URI (RFC 8252 §8.6)."""
        return not self.is_confidential and not redirect_uri.startswith("https://")

    # Validation ---------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not self.grant_type_list and not self.may_introspect:
            errors["grant_types"] = [
                gettext(
                    "Choose at least one grant type: a client without one can only call the "
                    "introspection endpoint, and this one may not."
                )
            ]
        # Each grant says what it needs of a client (oauthflow.server.grants.base).
        registry = _registry()
        for grant_type in self.grant_type_list:
            grant = registry.grant_class(grant_type)
            if grant is None:
                continue  # the field's validator reports unknown grant types
            for field, messages in grant.client_errors(self, registry).items():
                errors.setdefault(field, []).extend(messages)
        if self.skip_consent and any(self.is_native_redirect(u) for u in self.redirect_uri_list):
            errors.setdefault("skip_consent", []).append(
                gettext(
                    "A native app (a public client with a loopback or private-use redirect "
                    "URI) cannot skip consent: any program on the device could use its "
                    "client_id (RFC 8252 §8.6)."
                )
            )
        if self.subject_type == "pairwise" and not self.sector_identifier_uri:
            hosts = {urlsplit(uri).hostname for uri in self.redirect_uri_list}
            if not hosts:
                errors.setdefault("sector_identifier_uri", []).append(
                    gettext(
                        "A pairwise client without redirect URIs (a device client) needs a "
                        "sector identifier URI: its sector is that URI's host."
                    )
                )
            if len(hosts) > 1:
                errors.setdefault("sector_identifier_uri", []).append(
                    gettext(
                        "A pairwise client whose redirect URIs are on several hosts needs a "
                        "sector identifier URI (OpenID Connect Core §8.1)."
                    )
                )
        if self.sector_identifier_uri and not self.sector_identifier_uri.startswith("https://"):
            errors.setdefault("sector_identifier_uri", []).append(
                gettext("The sector identifier URI must use https.")
            )
        for field, messages in self._auth_method_errors(registry).items():
            errors.setdefault(field, []).extend(messages)
        known = known_scopes()
        for field in ("allowed_scopes", "default_scopes"):
            unknown = [s for s in scope_to_list(getattr(self, field)) if s not in known]
            if unknown:
                errors.setdefault(field, []).append(
                    gettext("Unknown scope(s): %(unknown)s. Known: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(known)}
                )
        outside = [
            s for s in scope_to_list(self.default_scopes) if s not in self.allowed_scope_list
        ]
        if outside and "default_scopes" not in errors:
            errors.setdefault("default_scopes", []).append(
                gettext("Default scope(s) not allowed for this client: %(scopes)s.")
                % {"scopes": ", ".join(outside)}
            )
        if errors:
            raise ValidationError(errors)

    def _auth_method_errors(self, registry: Any) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        method = self.token_endpoint_auth_method
        extra = registry.confidential_auth_methods()
        if method and method not in (*SECRET_AUTH_METHODS, "none", *extra):
            errors["token_endpoint_auth_method"] = [
                gettext("Unknown authentication method. Choose from %(known)s.")
                % {"known": ", ".join([*SECRET_AUTH_METHODS, "none", *extra])}
            ]
        elif method == "none" and self.is_confidential:
            errors["token_endpoint_auth_method"] = [
                gettext("A confidential client authenticates: choose a method other than none.")
            ]
        elif method and method != "none" and not self.is_confidential:
            errors["token_endpoint_auth_method"] = [
                gettext("A public client has no credentials: its method is none (or blank).")
            ]
        elif method in extra:
            for field, messages in extra[method](self).items():
                errors.setdefault(field, []).extend(messages)
        if self.jwks.strip() and self.jwks_uri:
            # RFC 7591 §2: the two MUST NOT both be present.
            errors.setdefault("jwks_uri", []).append(
                gettext("Register the keys or a JWKS URI, not both.")
            )
        if self.jwks_uri and not self._may_fetch(self.jwks_uri):
            errors.setdefault("jwks_uri", []).append(gettext("The JWKS URI must use https."))
        if self.allowed_origins.strip() and self.is_confidential:
            errors.setdefault("allowed_origins", []).append(
                gettext(
                    "Only public clients (apps in the browser) get CORS: a confidential "
                    "client's secret must never be in a web page."
                )
            )
        return errors

    @staticmethod
    def _may_fetch(url: str) -> bool:
        # https; plain http only to this machine, and only on a development site.
        from .redirect_uris import is_loopback_host

        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "https":
            return True
        development = settings.DEBUG or oauthflow_settings.ALLOW_INSECURE_TRANSPORT
        return scheme == "http" and development and is_loopback_host(parts.hostname)

    # Secret -------------------------------------------------------------------------------

    def set_secret(self) -> str:
        """Give a confidential client a new secret and return it: the only time it is seen.

        The caller saves the client. The old secret stops working at that save.
        """
        if not self.uses_secret:
            raise ValueError(
                "This client has no secret: it is public or authenticates with "
                f"{self.token_endpoint_auth_method}."
            )
        secret = tokens.generate(tokens.CLIENT_SECRET_PREFIX)
        self.secret_digest = tokens.digest(secret)
        self.secret_hint = tokens.hint(secret)
        self.legacy_secret_hash = ""
        return secret

    #: What set_secret() changes, for save(update_fields=...).
    SECRET_FIELDS = ("secret_digest", "secret_hint", "legacy_secret_hash", "updated_at")

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_digest or self.legacy_secret_hash)

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.uses_secret:
            return False
        if self.secret_digest:
            return tokens.matches(client_secret, self.secret_digest)
        if self.legacy_secret_hash:
            return self._check_legacy_secret(client_secret)
        return False

    def _check_legacy_secret(self, client_secret: str) -> bool:
        """Check a secret against a Django password hash (imported from
        django-oauth-toolkit) and, when it matches, store it as oauthflow does: the slow
        hash is paid once per client, not at every token request."""
        from django.contrib.auth.hashers import check_password

        encoded = self.legacy_secret_hash
        if not check_password(client_secret, encoded):
            return False
        if len(client_secret) < _STRONG_SECRET_LENGTH:
            # Perhaps chosen by a person: an unsalted digest would be cheaper to attack
            # offline than the password hash it has. It keeps that hash (rotate it).
            return True
        # Conditional: a concurrent rotation (which clears the legacy hash) wins.
        upgraded = Client.objects.filter(pk=self.pk, legacy_secret_hash=encoded).update(
            secret_digest=tokens.digest(client_secret),
            secret_hint=tokens.hint(client_secret),
            legacy_secret_hash="",
            updated_at=timezone.now(),
        )
        if upgraded:
            return True
        # Someone changed the row since it was read: a rotation (the old secret must not
        # work any more) or the same upgrade by a concurrent request. Ask what is stored.
        now_stored = Client.objects.filter(pk=self.pk).values_list("secret_digest", flat=True)
        stored = now_stored.first()
        return bool(stored) and tokens.matches(client_secret, str(stored))

    # Authlib's ClientMixin interface (duck-typed: storage does not import Authlib) -------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 6749 §3.1.2.3: without redirect_uri only a single registration is unambiguous.
        uris = self.redirect_uri_list
        return uris[0] if len(uris) == 1 else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return match_redirect_uri(
            redirect_uri, self.redirect_uri_list, native_loopback=not self.is_confidential
        )

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope to grant for a request, or None (invalid_scope; ``scope_problem`` says
        why).

        Asking for a scope the client may not have is an error, not silently dropped,
        so the client learns at once that its request is wrong.
        """
        return None if self.scope_problem(scope) else self._granted_scope(scope)

    def scope_problem(self, scope: str | None) -> str | None:
        """Why ``scope`` cannot be granted to this client, in a sentence for
        ``error_description`` (never echoing the request), or None."""
        requested = scope_to_list(scope) or self.default_scope_list
        if not requested:
            return (
                "No scope was requested and no default scope is configured: request a "
                "scope, or give the client default scopes (or set "
                "OAUTHFLOW['DEFAULT_SCOPES'])."
            )
        allowed = set(self.allowed_scope_list) & set(known_scopes())
        if not set(requested) <= allowed:
            return "The requested scope is unknown or not allowed for this client."
        return None

    def _granted_scope(self, scope: str | None) -> str:
        return list_to_scope(scope_to_list(scope) or self.default_scope_list)

    @property
    def auth_methods(self) -> tuple[str, ...]:
        """The ways this client may authenticate: its registered method, or (blank) those
        its type implies."""
        # The type decides between none and the rest, even for a row that clean() never
        # saw: a public client never authenticates with credentials, a confidential one
        # always does.
        method = self.token_endpoint_auth_method
        if not self.is_confidential:
            return ("none",)
        if method == "none":
            return ()
        return (method,) if method else SECRET_AUTH_METHODS

    @property
    def uses_secret(self) -> bool:
        """Whether the client authenticates with a client secret (so has one)."""
        return self.is_confidential and any(m in SECRET_AUTH_METHODS for m in self.auth_methods)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and GrantType.AUTHORIZATION_CODE in self.grant_type_list

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_type_list


class CredentialQuerySet(LookupQuerySet):
    def active(self, now: datetime | None = None) -> CredentialQuerySet:
        """Rows neither revoked nor expired (``oauthflow.store.validity.in_force``)."""
        return self.filter(in_force(now or timezone.now()))

    def revoke(self, now: datetime | None = None) -> int:
        """Revoke every row not already revoked; one UPDATE."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=now or timezone.now())


class IssuedCredential(models.Model):
    """What every code and token shares. Only the digest of the value is stored.

    Whether one may still be used is decided by ``oauthflow.store.validity``, from the
    attributes below and the two class attributes that say how the credential is used.
    """

    #: The column set when the credential is used up (single-use credentials only).
    USED_FIELD: str | None = None
    #: Until when presenting it again after use counts as reuse (evidence of theft).
    EVIDENCE_UNTIL_FIELD = "expires_at"

    digest = models.CharField(_("digest"), max_length=64, editable=False)
    hint = models.CharField(_("hint"), max_length=20, editable=False)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    scope = models.TextField(_("scope"), blank=True)
    family = models.UUIDField(
        _("family"),
        default=new_family_id,
        db_index=True,
        help_text=_("Shared by everything issued from one authorization."),
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True
        # Every lookup is by digest: one unique index. A constraint rather than
        # unique=True, which on PostgreSQL would also build a LIKE index (the size of the
        # first) that every insert pays for and no query uses.
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="%(app_label)s_%(class)s_digest")
        ]
        # For oauthflow_cleartokens. Partial, so issuing a token (revoked_at NULL) costs
        # no write to it.
        indexes = [
            models.Index(
                fields=["revoked_at"],
                condition=models.Q(revoked_at__isnull=False),
                name="of_%(class)s_revoked",
            )
        ]

    def __str__(self) -> str:
        return self.hint

    @property
    def scope_list(self) -> list[str]:
        return scope_to_list(self.scope)

    def is_expired(self) -> bool:
        """The expiry has passed (one fact; validity is ``store.validity.refusal``)."""
        return self.expires_at <= timezone.now()

    def is_revoked(self) -> bool:
        """The credential was revoked (one fact; validity is ``store.validity.refusal``)."""
        return self.revoked_at is not None

    @property
    def evidence_until(self) -> datetime:
        return getattr(self, self.EVIDENCE_UNTIL_FIELD)

    # Authlib's TokenMixin / AuthorizationCodeMixin interface.

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.pk

    def get_client(self) -> Client:
        return self.client

    def get_user(self) -> Any:
        return self.user

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))


class AuthorizationCode(IssuedCredential):
    """A short-lived, single-use code (RFC 6749 §4.1.2) bound to its client, redirect URI
    and PKCE challenge (RFC 7636)."""

    redirect_uri = models.TextField(
        _("redirect URI"),
        blank=True,
        help_text=_("Empty when the authorization request sent none."),
    )
    code_challenge = models.CharField(_("code challenge"), max_length=128, blank=True)
    code_challenge_method = models.CharField(_("code challenge method"), max_length=10, blank=True)
    resource = models.TextField(
        _("resources"), blank=True, help_text=_("Space-separated: those the request named.")
    )
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    dpop_jkt = models.CharField(
        _("DPoP key thumbprint"),
        max_length=43,
        blank=True,
        help_text=_("The key the code is bound to (dpop_jkt, RFC 9449 §10), if any."),
    )

    USED_FIELD = "redeemed_at"

    class Meta(IssuedCredential.Meta):
        verbose_name = _("authorization code")
        verbose_name_plural = _("authorization codes")

    def get_redirect_uri(self) -> str:
        return self.redirect_uri


class AccessToken(GrantedToken, IssuedCredential):
    """An access token. ``user`` is empty for client_credentials.

    Whatever its format (``oauthflow.formats``), every access token has a row: revocation
    and introspection find it by digest.
    """

    resource = models.TextField(
        _("audience"), blank=True, help_text=_("The resources (RFC 8707) it is for.")
    )
    jkt = models.CharField(
        _("key thumbprint"),
        max_length=43,
        blank=True,
        help_text=_("The key it is bound to (cnf.jkt, RFC 9449 §6): empty for a bearer token."),
    )

    class Meta(IssuedCredential.Meta):
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")

    @property
    def token_type(self) -> str:
        """How the token must be presented (RFC 6749 §7.1): with a DPoP proof of its key
        when it is bound to one (RFC 9449), else as a bearer token."""
        return "DPoP" if self.jkt else "Bearer"

    @property
    def is_client_credentials(self) -> bool:
        """True when the token acts for the client itself, not for a user
        (client_credentials grant): resource servers see an anonymous user."""
        return self.user_id is None


class RefreshToken(IssuedCredential):
    """A refresh token (RFC 6749 §6). It rotates on use: the new token points back to the
    one it replaced, and ``rotated_at`` marks the old one used, so presenting it again is
    detected as reuse (RFC 9700 §4.14.2)."""

    family_expires_at = models.DateTimeField(
        _("authorization ends"),
        help_text=_("Absolute end of the authorization, however often it is refreshed."),
    )
    rotated_at = models.DateTimeField(_("rotated"), null=True, blank=True)
    superseded_at = models.DateTimeField(
        _("superseded"),
        null=True,
        blank=True,
        help_text=_(
            "Replaced, unused, by a retried refresh (REFRESH_TOKEN_REUSE_GRACE): presenting "
            "it is reuse."
        ),
    )
    resource = models.TextField(
        _("resources"), blank=True, help_text=_("The resources the authorization named.")
    )
    jkt = models.CharField(
        _("key thumbprint"),
        max_length=43,
        blank=True,
        help_text=_(
            "The DPoP key a refresh must prove (a public client's, RFC 9449 §5); empty when "
            "unbound."
        ),
    )
    rotated_from = models.OneToOneField(
        "self",
        verbose_name=_("rotated from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rotated_into",
        editable=False,
    )

    USED_FIELD = "rotated_at"
    # A rotated token is reuse evidence for as long as its family may live, even after
    # its own idle expiry: a thief may have rotated first.
    EVIDENCE_UNTIL_FIELD = "family_expires_at"

    class Meta(IssuedCredential.Meta):
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")


class Consent(models.Model):
    """A user's remembered decision to let a client act with some scopes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="oauthflow_consents",
    )
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="consents"
    )
    scope = models.TextField(_("scope"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="oauthflow_consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.client}"

    @property
    def scope_list(self) -> list[str]:
        return scope_to_list(self.scope)

    def covers(self, scope: str) -> bool:
        return set(scope_to_list(scope)) <= set(self.scope_list)


class Subject(models.Model):
    """A user's subject identifiers (``sub``): random, so they say nothing about the
    user's row, and stored, so they survive a restore of the database as they are.

    ``public`` is the one most clients see; a pairwise client sees an HMAC of its sector
    under ``pairwise_key`` (OpenID Connect Core §8.1), which no client can link to
    another sector's without that key. ``oauthflow.subjects`` makes and reads them.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="oauthflow_subject",
    )
    public = models.CharField(_("public subject"), max_length=64, editable=False)
    pairwise_key = models.CharField(_("pairwise key"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        constraints = [
            models.UniqueConstraint(fields=["public"], name="oauthflow_subject_public_unique")
        ]

    def __str__(self) -> str:
        return self.public


class SigningKey(models.Model):
    """A key the server signs with (ID tokens), its public part published at the JWKS
    endpoint. ``oauthflow.keys`` owns the life cycle: published before it signs, kept
    published after it stops until what it signed has expired."""

    kid = models.CharField(_("key ID"), max_length=64, editable=False)
    alg = models.CharField(_("algorithm"), max_length=10, choices=ID_TOKEN_ALGORITHMS)
    public_jwk = models.JSONField(_("public key"), editable=False)
    #: The private JWK, encrypted (Fernet) under SIGNING_KEY_ENCRYPTION_KEYS.
    private_jwk_encrypted = models.TextField(_("private key (encrypted)"), editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    signs_from = models.DateTimeField(
        _("signs from"), help_text=_("Published at once; used for signing from this time.")
    )
    retired_at = models.DateTimeField(
        _("retired"),
        null=True,
        blank=True,
        help_text=_("No longer signs; published until what it signed has expired."),
    )

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-signs_from", "-pk"]
        constraints = [models.UniqueConstraint(fields=["kid"], name="oauthflow_signingkey_kid")]

    def __str__(self) -> str:
        return f"{self.alg} {self.kid}"


class Authentication(models.Model):
    """How the user signed in for one OpenID Connect authorization, kept for the tokens
    issued from it (the ``family`` of its code): the subject the client sees, the nonce,
    when and how the user authenticated, the claims asked for, and the browser session
    (``sid``) that back-channel logout ends."""

    family = models.UUIDField(_("family"), editable=False)
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    sub = models.CharField(_("subject"), max_length=255)
    sid = models.CharField(_("session ID"), max_length=64, blank=True, db_index=True)
    nonce = models.TextField(_("nonce"), blank=True)
    auth_time = models.DateTimeField(_("authenticated"), null=True, blank=True)
    acr = models.CharField(_("ACR"), max_length=255, blank=True)
    amr = models.CharField(_("AMR"), max_length=255, blank=True)
    claims = models.JSONField(_("requested claims"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("authentication")
        verbose_name_plural = _("authentications")
        constraints = [
            models.UniqueConstraint(fields=["family"], name="oauthflow_authentication_family")
        ]

    def __str__(self) -> str:
        return f"{self.sub} @ {self.client_id}"
