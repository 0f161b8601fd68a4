"""``manage.py oauthflow_cleartokens``: delete expired and revoked codes and tokens.

Run it from cron or a scheduler, e.g. hourly. It works in short batches (see
``oauthflow.store.cleanup``), so it is safe to run on a busy server and to interrupt.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauthflow.settings import oauthflow_settings
from oauthflow.store.cleanup import clear_tokens


class Command(BaseCommand):
    help = (
        "Delete expired and revoked authorization codes, access tokens and refresh tokens, "
        "in batches. Redeemed codes and rotated refresh tokens are kept until they expire."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows per batch, each in its own transaction. Default: "
            "OAUTHFLOW['CLEARTOKENS_BATCH_SIZE'] "
            f"({oauthflow_settings.CLEARTOKENS_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        dry_run = options["dry_run"]
        counts = clear_tokens(batch_size=batch_size, dry_run=dry_run)
        if options["json"]:
            self.stdout.write(json.dumps({**counts, "dry_run": dry_run}, indent=2))
            return
        if options["verbosity"] < 1:
            return
        verb = "Would delete" if dry_run else "Deleted"
        for name, count in counts.items():
            self.stdout.write(f"{verb} {count} {name.replace('_', ' ')}.")
