"""What an import found, did (or would do) and skipped, for the person running it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: The rows the report counts, in the order the import takes them.
KINDS = ("clients", "refresh tokens", "access tokens", "authorization codes", "consents")


@dataclass
class Tally:
    found: int = 0
    imported: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class ClientNotes:
    name: str
    client_id: str
    notes: list[str]


@dataclass
class Report:
    dry_run: bool
    source: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    #: DOT rows oauthflow has no place for yet (ID tokens, device grants), by kind.
    not_imported: dict[str, int] = field(default_factory=dict)
    clients: list[ClientNotes] = field(default_factory=list)
    #: Scopes (after --scope mapping) not in OAUTHFLOW['SCOPES'], with how many rows hold each.
    unknown_scopes: Counter[str] = field(default_factory=Counter)
    #: The default scopes each new client gets (DOT's DEFAULT_SCOPES).
    default_scopes: list[str] = field(default_factory=list)
    #: Rows an earlier run imported that DOT no longer has live, revoked by this run.
    withdrawn: Counter[str] = field(default_factory=Counter)

    def render(self) -> str:
        done = "would import" if self.dry_run else "imported"
        lines = [
            f"django-oauth-toolkit import from {self.source}"
            + (" (dry run: nothing written; run again with --commit)" if self.dry_run else ""),
            "",
            f"{'':22}{'found':>8}{done:>14}{'already here':>14}{'skipped':>9}",
        ]
        for kind, tally in self.tallies.items():
            lines.append(
                f"{kind:22}{tally.found:>8}{tally.imported:>14}{tally.already:>14}"
                f"{sum(tally.skipped.values()):>9}"
            )
        skipped = [
            f"  {count} {kind}: {reason}"
            for kind, tally in self.tallies.items()
            for reason, count in sorted(tally.skipped.items())
        ]
        if skipped:
            lines += ["", "Skipped (DOT itself would refuse these, or oauthflow cannot use them):"]
            lines += skipped
        if any(self.withdrawn.values()):
            verb = "Would revoke" if self.dry_run else "Revoked"
            lines += [
                "",
                f"{verb} what an earlier run imported and DOT no longer honours (expired, "
                "rotated, revoked or deleted since):",
            ]
            lines += [f"  {count} {kind}" for kind, count in self.withdrawn.items() if count]
        if any(self.not_imported.values()):
            lines += ["", "Not imported (oauthflow has no place for them yet):"]
            lines += [f"  {count} {kind}" for kind, count in self.not_imported.items() if count]
        if self.clients:
            lines += ["", "Clients to look at:"]
            for client in self.clients:
                lines.append(f"  {client.name!r} ({client.client_id}):")
                lines += [f"    - {note}" for note in client.notes]
        if self.default_scopes:
            lines += [
                "",
                "New clients get DOT's default scopes, granted when a request names none: "
                + " ".join(self.default_scopes)
                + ".",
            ]
        if self.unknown_scopes:
            names = ", ".join(f"{s!r} ({n})" for s, n in sorted(self.unknown_scopes.items()))
            lines += [
                "",
                f"Scopes not in OAUTHFLOW['SCOPES'], with the rows that hold them: {names}.",
                "Imported tokens keep them, but new authorization requests for them get "
                "invalid_scope: add them to OAUTHFLOW['SCOPES'] (DOT's SCOPES setting has "
                "the same shape), or rename them with --scope OLD=NEW (--scope OLD= drops "
                "one).",
            ]
        return "\n".join(lines) + "\n"
