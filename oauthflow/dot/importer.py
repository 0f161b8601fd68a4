"""The import: clients, then refresh tokens, access tokens, codes and consents.

* Dry run unless ``commit``: the same reading and mapping, and nothing written.
* Idempotent: a client is found by its client_id and a token or code by its digest, so a
  second run (or one after an interrupted run) imports only what is missing.
* Written in batches, each in its own transaction: a batch is all there or not at all,
  and an interrupted import is finished by running it again.
* Only what DOT itself would still accept is imported: refresh tokens not revoked or
  rotated, with an access token, within REFRESH_TOKEN_EXPIRE_SECONDS if DOT had one;
  access tokens and codes not expired. An imported refresh token's lifetimes start at
  the import (DOT's have none by default), so nobody is signed out by the move.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from ..models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken
from ..scope import known_scopes, scope_to_list
from ..settings import oauthflow_settings
from . import mapping
from .report import ClientNotes, Report, Tally
from .source import Source

T = TypeVar("T")


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
        self._consents: dict[tuple[Any, int], set[str]] = defaultdict(set)
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
        self._import_access_tokens()
        self._import_codes()
        self._remember_consents()
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
            existing = dict(
                Client.objects.filter(client_id__in=[a["client_id"] for a in batch]).values_list(
                    "client_id", "pk"
                )
            )
            owners = self._existing_users(a.get("user_id") for a in batch)
            for app in batch:
                if app["client_id"] in existing:
                    self._clients[app["id"]] = existing[app["client_id"]]
                    tally.already += 1
                    continue
                client, notes = mapping.client_from_application(
                    app,
                    owner_exists=app.get("user_id") in owners,
                    default_scopes=self.default_scopes,
                )
                if self.commit:
                    with transaction.atomic():
                        client.save()
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
            rows = []
            for row in batch:
                why = self._refusal(row, users)
                if why is None and row.get("revoked") is not None:
                    why = "revoked or rotated in DOT"
                token = access.get(row.get("access_token_id"))
                if why is None and token is None:
                    why = "no access token (DOT refuses such a refresh token too)"
                deadline = None
                if why is None and token is not None and dot_expiry:
                    deadline = token["expires"] + dot_expiry
                    if deadline <= self.now:
                        why = "expired (DOT's REFRESH_TOKEN_EXPIRE_SECONDS)"
                found = None if why else mapping.credential(row, "token")
                if why is None and found is None:
                    why = "a token value oauthflow does not accept (too long, or no value)"
                if why or found is None:
                    tally.skipped[why or ""] += 1
                    continue
                family = _uuid(row.get("token_family")) or uuid.uuid4()
                self._families[row["access_token_id"]] = family
                family_expires_at = self.now + absolute
                rows.append(
                    RefreshToken(
                        digest=found[0],
                        hint=found[1],
                        family=family,
                        expires_at=min(self.now + idle, deadline or family_expires_at),
                        family_expires_at=family_expires_at,
                        **self._common({**row, "scope": token["scope"] if token else ""}),
                    )
                )
            self._write(RefreshToken, rows, tally)

    def _import_access_tokens(self) -> None:
        tally = self.report.tallies["access tokens"]
        for batch in _batches(self.source.rows("accesstoken"), self.batch_size):
            tally.found += len(batch)
            users = self._existing_users(r.get("user_id") for r in batch)
            rows = []
            for row in batch:
                why = self._refusal(row, users)
                if why is None and row["expires"] <= self.now:
                    why = "expired"
                found = None if why else mapping.credential(row, "token")
                if why is None and found is None:
                    why = "a token value oauthflow does not accept (too long, or no value)"
                if why or found is None:
                    tally.skipped[why or ""] += 1
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
                if why is None and row["expires"] <= self.now:
                    why = "expired"
                method = row.get("code_challenge_method") or ""
                if why is None and method not in ("", "S256"):
                    why = f"PKCE method {method!r}, which oauthflow refuses (RFC 9700 §2.1.1)"
                found = None if why else mapping.credential(row, "code")
                if why is None and found is None:
                    why = "a code oauthflow does not accept"
                if why or found is None:
                    tally.skipped[why or ""] += 1
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
        if row.get("application_id") not in self._clients:
            return "its application was not imported"
        if row.get("user_id") is not None and row["user_id"] not in users:
            return "its user was not found"
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

    def _write(self, model: type[models.Model], rows: list[Any], tally: Tally) -> None:
        digests = [row.digest for row in rows]
        existing = set(
            model._default_manager.filter(digest__in=digests).values_list("digest", flat=True)
        )
        new = [row for row in rows if row.digest not in existing]
        tally.already += len(rows) - len(new)
        tally.imported += len(new)
        if self.commit and new:
            with transaction.atomic():
                model._default_manager.bulk_create(new)

    # Consents ------------------------------------------------------------------------------

    def _remember_consents(self) -> None:
        """A user with a live DOT token for a client has consented to it: without a consent
        row, oauthflow would ask again at the next authorization request."""
        tally = self.report.tallies["consents"]
        pairs = list(self._consents.items())
        tally.found = len(pairs)
        for batch in _batches(iter(pairs), self.batch_size):
            existing = set()
            for user_id, client_id in Consent.objects.filter(
                user_id__in={user for (user, _), _ in batch},
                client_id__in={client for (_, client), _ in batch},
            ).values_list("user_id", "client_id"):
                existing.add((user_id, client_id))
            new = [
                Consent(user_id=user, client_id=client, scope=" ".join(sorted(scopes)))
                for (user, client), scopes in batch
                if (user, client) not in existing
            ]
            tally.already += len(batch) - len(new)
            tally.imported += len(new)
            if self.commit and new:
                with transaction.atomic():
                    Consent.objects.bulk_create(new)

    def _existing_users(self, ids: Iterable[Any]) -> set[Any]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return set()
        manager = get_user_model()._default_manager
        return set(manager.filter(pk__in=wanted).values_list("pk", flat=True))


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
