"""``manage.py oauthflow_import_dot``: move clients and live tokens from django-oauth-toolkit.

A dry run unless ``--commit``; safe to run again (what is already here is left alone).
docs/from-dot.md is the guide; ``oauthflow.dot`` does the work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauthflow.dot.importer import Importer
from oauthflow.dot.source import DotSourceError, DumpSource, InstalledSource, Source
from oauthflow.scope import is_valid_scope_token


class Command(BaseCommand):
    help = (
        "Import django-oauth-toolkit's applications, live access and refresh tokens and "
        "unexpired authorization codes: client_ids and secrets keep working and nobody is "
        "signed out. A dry run unless --commit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--commit", action="store_true", help="Write the import. Without it, nothing is."
        )
        parser.add_argument(
            "--dump",
            metavar="FILE",
            help="Read `manage.py dumpdata oauth2_provider` output instead of the "
            "oauth2_provider tables of this database.",
        )
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            metavar="OLD=NEW",
            help="Rename a scope in what is imported (repeatable); OLD= drops it.",
        )
        parser.add_argument(
            "--default-scopes",
            metavar="'A B'",
            default=None,
            help="The default scopes new clients get (granted when a request names none). "
            "Default: DOT's DEFAULT_SCOPES when it is installed, none with --dump.",
        )
        parser.add_argument(
            "--refresh-token-expire-seconds",
            type=int,
            default=None,
            metavar="SECONDS",
            help="DOT's REFRESH_TOKEN_EXPIRE_SECONDS, for a --dump (with DOT installed it "
            "is read from its settings). Refresh tokens DOT would refuse are skipped.",
        )
        parser.add_argument(
            "--users-by-pk",
            action="store_true",
            help="With --dump: match users by primary key (the dump comes from a copy of "
            "this database). Without it, the dump must name users by natural key "
            "(dumpdata --natural-foreign).",
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per batch.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        scope_map = _scope_map(options["scope"])
        try:
            source = _source(options)
        except DotSourceError as exc:
            raise CommandError(str(exc)) from exc
        report = Importer(
            source,
            commit=options["commit"],
            scope_map=scope_map,
            default_scopes=None
            if options["default_scopes"] is None
            else options["default_scopes"].split(),
            batch_size=options["batch_size"],
        ).run()
        if options["verbosity"] >= 1:
            self.stdout.write(report.render())


def _source(options: dict[str, Any]) -> Source:
    seconds = options["refresh_token_expire_seconds"]
    if seconds is not None and seconds < 0:
        raise CommandError("--refresh-token-expire-seconds must not be negative.")
    if options["dump"]:
        if seconds is None:
            raise CommandError(
                "--dump needs --refresh-token-expire-seconds: DOT's "
                "REFRESH_TOKEN_EXPIRE_SECONDS (0 if it was not set: no expiry), so that "
                "refresh tokens DOT would refuse are not imported."
            )
        expiry = timedelta(seconds=seconds) if seconds else None
        return DumpSource(
            options["dump"], refresh_token_expiry=expiry, users_by_pk=options["users_by_pk"]
        )
    if options["users_by_pk"]:
        raise CommandError("--users-by-pk is for --dump.")
    if seconds is not None:
        raise CommandError(
            "--refresh-token-expire-seconds is for --dump; with DOT installed its own "
            "setting is used."
        )
    return InstalledSource(batch_size=options["batch_size"])


def _scope_map(pairs: list[str]) -> dict[str, str]:
    scope_map = {}
    for pair in pairs:
        old, separator, new = pair.partition("=")
        if (
            not separator
            or not is_valid_scope_token(old)
            or (new and not is_valid_scope_token(new))
        ):
            raise CommandError(f"--scope takes OLD=NEW (or OLD= to drop a scope), not {pair!r}.")
        scope_map[old] = new
    return scope_map
