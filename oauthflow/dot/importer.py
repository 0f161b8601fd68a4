"""The import: clients, then refresh tokens, access tokens, codes and consents.

* Dry run unless ``commit``: the same reading and mapping, and nothing written.
* Idempotent: a client is found by its client_id and a token or code by its digest, so a
  second run (or one after an interrupted run) imports only what is missing.
* A run also withdraws what an earlier run imported and DOT no longer honours (rotated,
  revoked, deleted since): imported rows carry a ``dot_…`` hint, and one whose digest is
  not among DOT's live credentials now is revoked. The import is meant to run at the
  switch, with DOT stopped; this keeps a second run safe if DOT went on serving.
* Written in batches, each in its own transaction (a client in its own): a batch is all
  there or not at all; a batch that conflicts is retried row by row, and a row that still
  fails is skipped and reported.
* Only what DOT itself would still accept is imported live: refresh tokens not revoked or
  rotated, with an access token, within REFRESH_TOKEN_EXPIRE_SECONDS if DOT had one;
  access tokens and codes not expired; nothing restricted to a resource (RFC 8707, which
  oauthflow does not have yet). A refresh token DOT rotated or revoked, in a family that
  has a live one, comes as a used row: presenting it is reuse, and revokes the family.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from ..models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken
from ..scope import known_scopes, scope_to_list
from ..settings import oauthflow_settings
from ..store.revocation import revoke_family, revoke_rows
from . import mapping
from .report import ClientNotes, Report, Tally
from .source import MISSING_USER, Source

T = TypeVar("T")
_UNUSABLE = (
    "a token value oauthflow does not accept (longer than 128 characters, shorter than 8, "
    "with a dot or other characters outside RFC 6750's token syntax, or no value)"
)


class Importer:
    def __init__(
        self,
        source: Source,
        *,
        commit: bool = False,
        scope_map: dict[str, str] | None = None,
        default_scopes: list[str] | None = None,
        batch_size: int = 1000,
        now: datetime | None = None,
    ) -> None:
        self.source = source
        self.commit = commit
        self.scope_map = scope_map or {}
        self.batch_size = batch_size
        self.now = now or timezone.now()
        self.report = Report(dry_run=not commit, source=source.description)
        self._clients: dict[Any, int] = {}  # DOT application id -> Client pk
        self._families: dict[Any, uuid.UUID] = {}  # DOT access token id -> family
        self._live_families: dict[uuid.UUID, dict[str, Any]] = {}  # -> the live token's
        self._consents: dict[tuple[Any, int], set[str]] = defaultdict(set)
        # Digests of DOT's live credentials seen in this run, by model.
        self._live: dict[type[models.Model], set[str]] = defaultdict(set)
        # Refresh tokens DOT used since an earlier run: settled by _settle_used.
        self._settled: set[str] = set()
        # Families refreshed at both servers: revoked once everything is imported.
        self._used_twice: set[uuid.UUID] = set()
        self._known_scopes = set(known_scopes())
        # DOT's DEFAULT_SCOPES (or --default-scopes), renamed; unknown ones are reported.
        defaults = scope_to_list(
            mapping.map_scope(
                " ".join(source.default_scopes if default_scopes is None else default_scopes),
                self.scope_map,
            )
        )
        self.default_scopes = [s for s in defaults if s in self._known_scopes]
        self.report.default_scopes = self.default_scopes
        for name in defaults:
            if name not in self._known_scopes:
                self.report.unknown_scopes[name] += 1

    def run(self) -> Report:
        self._import_clients()
        self._import_refresh_tokens()
        self._import_used_refresh_tokens()
        self._import_access_tokens()
        self._import_codes()
        self._remember_consents()
        for model in (RefreshToken, AccessToken, AuthorizationCode):
            self._withdraw(model)
        if self.commit:
            for family in self._used_twice:
                revoke_family(family, by="dot-import")
        self.report.not_imported = {
            "ID tokens (OpenID Connect)": self.source.count("idtoken"),
            "device grants in progress": self.source.count("devicegrant"),
        }
        return self.report

    # Clients --------------------------------------------------------------------------------

    def _import_clients(self) -> None:
        tally = self.report.tallies["clients"]
        for batch in _batches(self.source.rows("application"), self.batch_size):
            tally.found += len(batch)
            existing = {
                c.client_id: c
                for c in Client.objects.filter(
                    client_id__in=[a.get("client_id") for a in batch]
                ).only("pk", "client_id", "client_type", "owner_id", "created_at")
            }
            owners = self._existing_users(a.get("user_id") for a in batch)
            for app in batch:
                why = mapping.application_refusal(app)
                if why:
                    tally.skipped[why] += 1
                    continue
                here = existing.get(app["client_id"])
                if here is not None:
                    why = _clash(here, app)
                    if why:
                        tally.skipped[why] += 1
                        continue
                    self._clients[app["id"]] = here.pk
                    tally.already += 1
                    continue
                client, notes = mapping.client_from_application(
                    app,
                    owner_exists=app.get("user_id") in owners,
                    default_scopes=self.default_scopes,
                )
                if self.commit:
                    try:
                        with transaction.atomic():
                            client.save()
                    except DatabaseError as exc:
                        tally.skipped[f"cannot be saved ({type(exc).__name__})"] += 1
                        continue
                # A client the dry run would create gets a stand-in key no row has.
                self._clients[app["id"]] = client.pk if self.commit else -1 - tally.imported
                tally.imported += 1
                if notes:
                    self.report.clients.append(ClientNotes(client.name, client.client_id, notes))

    # Tokens and codes ----------------------------------------------------------------------

    def _import_refresh_tokens(self) -> None:
        idle = timedelta(seconds=oauthflow_settings.REFRESH_TOKEN_IDLE_LIFETIME)
        absolute = timedelta(seconds=oauthflow_settings.REFRESH_TOKEN_ABSOLUTE_LIFETIME)
        dot_expiry = self.source.refresh_token_expiry
        tally = self.report.tallies["refresh tokens"]
        for batch in _batches(self.source.rows("refreshtoken"), self.batch_size):
            tally.found += len(batch)
            users = self._existing_users(r.get("user_id") for r in batch)
            access = self.source.access_tokens(
                r["access_token_id"] for r in batch if r.get("access_token_id") is not None
            )
            planned = []
            for row in batch:
                if row.get("revoked") is not None:
                    continue  # a used row, if at all: _import_used_refresh_tokens
                why = self._refusal(row, users)
                token = access.get(row.get("access_token_id"))
                if why is None and token is None:
                    why = "no access token (DOT refuses such a refresh token too)"
                if why is None and token is not None and token.get("resource"):
                    why = _RESOURCE
                deadline = None
                if why is None and token is not None and dot_expiry:
                    deadline = token["expires"] + dot_expiry
                    if deadline <= self.now:
                        why = "expired (DOT's REFRESH_TOKEN_EXPIRE_SECONDS)"
                found = None if why else mapping.credential(row, "token")
                if why or found is None or token is None:
                    tally.skipped[why or _UNUSABLE] += 1
                    continue
                family = _uuid(row.get("token_family")) or uuid.uuid4()
                family_expires_at = self.now + absolute
                expires_at = min(self.now + idle, deadline or family_expires_at)
                self._families[row["access_token_id"]] = family
                self._live_families[family] = {
                    "expires_at": expires_at,
                    "family_expires_at": family_expires_at,
                }
                credential = RefreshToken(
                    digest=found[0],
                    hint=found[1],
                    family=family,
                    expires_at=expires_at,
                    family_expires_at=family_expires_at,
                    **self._common({**row, "scope": token["scope"]}),
                )
                planned.append((credential, row["access_token_id"]))
            stored = self._write(RefreshToken, [c for c, _ in planned], tally)
            for credential, access_token_id in planned:
                # Already here from an earlier run: keep the family it was given then.
                if credential.digest in stored:
                    self._families[access_token_id] = stored[credential.digest]
        # The rows DOT revoked or rotated are counted by the next step.

    def _import_used_refresh_tokens(self) -> None:
        """Refresh tokens DOT rotated or revoked, in a family with a live one: imported as
        used, so that presenting one after the move is caught as reuse (RFC 9700 §4.14.2)
        and revokes the family, as DOT's REFRESH_TOKEN_REUSE_PROTECTION does."""
        tally = self.report.tallies["refresh tokens"]
        for batch in _batches(self.source.rows("refreshtoken"), self.batch_size):
            users = self._existing_users(r.get("user_id") for r in batch)
            rows = []
            for row in batch:
                if row.get("revoked") is None:
                    continue
                family = _uuid(row.get("token_family"))
                live = self._live_families.get(family) if family else None
                found = mapping.credential(row, "token")
                if family is None or live is None or found is None or self._refusal(row, users):
                    tally.skipped["revoked or rotated in DOT"] += 1
                    continue
                rows.append(
                    RefreshToken(
                        digest=found[0],
                        hint=found[1],
                        family=family,
                        rotated_at=row["revoked"],
                        expires_at=min(row["revoked"], live["expires_at"]),
                        family_expires_at=live["family_expires_at"],
                        **self._common(row, consent=False),
                    )
                )
            self._settle_used(rows)
            # Counted apart: a used row keeps nobody signed in.
            used = Tally()
            self._write(RefreshToken, rows, used, live=False)
            tally.skipped.update(used.skipped)
            if used.imported + used.already:
                tally.skipped["revoked or rotated in DOT (kept as reuse evidence)"] += (
                    used.imported + used.already
                )

    def _settle_used(self, rows: list[RefreshToken]) -> None:
        """Rows an earlier run imported live that DOT has rotated or revoked since.

        Not used at oauthflow: marked used, so presenting one is reuse, as for any rotated
        token. Used at oauthflow too (the client refreshed at both servers): two branches
        of one authorization, which is reuse itself: the family is revoked.
        """
        by_digest = {row.digest: row for row in rows}
        self._settled.update(by_digest)
        earlier = RefreshToken.objects.filter(
            digest__in=list(by_digest),
            hint__startswith=mapping.IMPORTED_HINT,
            revoked_at__isnull=True,
        ).values_list("pk", "digest", "rotated_at", "family")
        for pk, digest, rotated_at, family in earlier:
            dot_used_at = by_digest[digest].rotated_at
            if rotated_at and dot_used_at and _ms(rotated_at) == _ms(dot_used_at):
                continue  # imported as used by an earlier run
            if rotated_at is None:
                self.report.withdrawn["refresh tokens marked used"] += 1
                if self.commit:
                    RefreshToken.objects.filter(pk=pk, rotated_at__isnull=True).update(
                        rotated_at=by_digest[digest].rotated_at
                    )
            else:
                self.report.withdrawn["authorizations used at both DOT and oauthflow"] += 1
                self._used_twice.add(family)

    def _import_access_tokens(self) -> None:
        tally = self.report.tallies["access tokens"]
        for batch in _batches(self.source.rows("accesstoken"), self.batch_size):
            tally.found += len(batch)
            users = self._existing_users(r.get("user_id") for r in batch)
            rows = []
            for row in batch:
                why = self._refusal(row, users)
                found = None if why else mapping.credential(row, "token")
                if why or found is None:
                    tally.skipped[why or _UNUSABLE] += 1
                    continue
                rows.append(
                    AccessToken(
                        digest=found[0],
                        hint=found[1],
                        family=self._families.get(row["id"]) or uuid.uuid4(),
                        expires_at=row["expires"],
                        **self._common(row),
                    )
                )
            self._write(AccessToken, rows, tally)

    def _import_codes(self) -> None:
        tally = self.report.tallies["authorization codes"]
        for batch in _batches(self.source.rows("grant"), self.batch_size):
            tally.found += len(batch)
            users = self._existing_users(r.get("user_id") for r in batch)
            rows = []
            for row in batch:
                why = self._refusal(row, users)
                method = row.get("code_challenge_method") or ""
                if why is None and method not in ("", "S256"):
                    why = f"PKCE method {method!r}, which oauthflow refuses (RFC 9700 §2.1.1)"
                found = None if why else mapping.credential(row, "code")
                if why or found is None:
                    tally.skipped[why or "a code oauthflow does not accept"] += 1
                    continue
                rows.append(
                    AuthorizationCode(
                        digest=found[0],
                        hint=found[1],
                        expires_at=row["expires"],
                        redirect_uri=row.get("redirect_uri") or "",
                        code_challenge=row.get("code_challenge") or "",
                        code_challenge_method=method,
                        **self._common(row, consent=False),
                    )
                )
            self._write(AuthorizationCode, rows, tally)

    def _refusal(self, row: dict[str, Any], users: set[Any]) -> str | None:
        """Why a token or code cannot come over, whatever its kind, or None."""
        if row.get("application_id") not in self._clients:
            return "its application was not imported"
        if row.get("user_id") is not None and row["user_id"] not in users:
            # Never imported without its user: it would act as its client.
            return "its user was not found"
        if row.get("expires") is not None and row["expires"] <= self.now:
            return "expired"  # access tokens and codes; DOT's refresh tokens have no expiry
        if row.get("resource"):
            return _RESOURCE
        return None

    def _common(self, row: dict[str, Any], *, consent: bool = True) -> dict[str, Any]:
        """The fields every credential has, and its user's consent to remember."""
        scope = mapping.map_scope(str(row.get("scope") or ""), self.scope_map)
        client_id = self._clients[row["application_id"]]
        for name in scope_to_list(scope):
            if name not in self._known_scopes:
                self.report.unknown_scopes[name] += 1
        if consent and row.get("user_id") is not None:
            self._consents[(row["user_id"], client_id)].update(scope_to_list(scope))
        fields: dict[str, Any] = {
            "client_id": client_id,
            "user_id": row.get("user_id"),
            "scope": scope,
        }
        if row.get("created"):
            fields["created_at"] = row["created"]
        return fields

    def _write(
        self, model: type[Any], rows: list[Any], tally: Tally, *, live: bool = True
    ) -> dict[str, Any]:
        """Store the rows not already here; returns the families of those that were.

        ``live`` rows are DOT's live credentials: the ones a later ``_withdraw`` keeps.
        """
        seen = self._live[model] if live else set()
        unique: dict[str, Any] = {}
        for row in rows:
            if row.digest in unique or row.digest in seen:
                tally.skipped["the same token twice in DOT"] += 1
            else:
                unique[row.digest] = row
        if live:
            self._live[model].update(unique)
        stored = dict(
            model._default_manager.filter(digest__in=list(unique)).values_list("digest", "family")
        )
        new = [row for digest, row in unique.items() if digest not in stored]
        tally.already += len(unique) - len(new)
        if not self.commit or not new:
            tally.imported += len(new)
            return stored
        try:
            with transaction.atomic():
                model._default_manager.bulk_create(new)
            tally.imported += len(new)
        except DatabaseError:
            # One row spoils the batch (a value too long for a column, a digest that
            # arrived meanwhile): store the others one by one.
            for row in new:
                try:
                    with transaction.atomic():
                        model._default_manager.bulk_create([row])
                    tally.imported += 1
                except DatabaseError as exc:
                    tally.skipped[f"cannot be saved ({type(exc).__name__})"] += 1
        return stored

    def _withdraw(self, model: type[Any]) -> None:
        """Revoke what an earlier run imported and DOT no longer has live: of the clients
        imported from it, and of clients whose application DOT no longer has."""
        imported = model._default_manager.filter(
            hint__startswith=mapping.IMPORTED_HINT, revoked_at__isnull=True
        )
        if model.USED_FIELD:
            # A redeemed code, a rotated refresh token: reuse evidence, left as it is.
            imported = imported.filter(**{f"{model.USED_FIELD}__isnull": True})
        stale = [
            pk
            for pk, digest in imported.values_list("pk", "digest").iterator()
            if digest not in self._live[model] and digest not in self._settled
        ]
        self.report.withdrawn[str(model._meta.verbose_name_plural)] = len(stale)
        if self.commit:
            for batch in _batches(iter(stale), self.batch_size):
                revoke_rows(model, batch, by="dot-import")

    # Consents ------------------------------------------------------------------------------

    def _remember_consents(self) -> None:
        """A user with a live DOT token for a client has consented to it: without a consent
        row, oauthflow would ask again at the next authorization request."""
        tally = self.report.tallies["consents"]
        pairs = list(self._consents.items())
        tally.found = len(pairs)
        for batch in _batches(iter(pairs), self.batch_size):
            existing = set(
                Consent.objects.filter(
                    user_id__in={user for (user, _), _ in batch},
                    client_id__in={client for (_, client), _ in batch},
                ).values_list("user_id", "client_id")
            )
            new = [
                Consent(user_id=user, client_id=client, scope=" ".join(sorted(scopes)))
                for (user, client), scopes in batch
                if (user, client) not in existing
            ]
            tally.already += len(batch) - len(new)
            tally.imported += len(new)
            if self.commit and new:
                with transaction.atomic():
                    Consent.objects.bulk_create(new, ignore_conflicts=True)

    def _existing_users(self, ids: Iterable[Any]) -> set[Any]:
        wanted = {i for i in ids if i is not None and i != MISSING_USER}
        if not wanted:
            return set()
        manager = get_user_model()._default_manager
        return set(manager.filter(pk__in=wanted).values_list("pk", flat=True))


_RESOURCE = "restricted to a resource (RFC 8707), which oauthflow does not have yet"


def _clash(here: Client, app: dict[str, Any]) -> str | None:
    """Why an oauthflow client with a DOT application's client_id is not that
    application imported earlier, or None when it is.

    An imported client keeps the application's creation time, to the microsecond, which
    an edit in oauthflow (a new owner, another type) does not change and another client
    does not have.
    """
    created = app.get("created")
    # To the millisecond: a dump (dumpdata's JSON) keeps no more.
    if created is None or _ms(here.created_at) != _ms(created):
        return (
            "an oauthflow client with the same client_id that was not imported from it: "
            "its tokens are not imported"
        )
    return None


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _batches(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
