"""``manage.py oauthflow_registration_token``: the initial access tokens that let clients
register themselves (RFC 7591 §3; ``DYNAMIC_REGISTRATION = "initial_access_token"``).

Subcommands: ``create`` (prints the token once: only its digest is stored), ``list``
(hints, never values) and ``revoke ID``. Each takes ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oauthflow.management.commands.oauthflow_client import check_utf8, subcommand_adder
from oauthflow.registration.guard import new_initial_access_token
from oauthflow.registration.models import InitialAccessToken

#: A token lives at most a year: one meant to last for ever is better given no expiry.
MAX_EXPIRES_IN = 366 * 24 * 3600
MAX_USES = 1_000_000


def _positive(limit: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number.") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{value} is not between 1 and {limit}.")
        return value

    return parse


def token_data(row: InitialAccessToken) -> dict[str, Any]:
    """What ``list`` and ``--json`` report: never the value, only its hint."""
    return {
        "id": row.pk,
        "hint": row.hint,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "uses_left": row.uses_left,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked": row.revoked,
        "usable": row.is_usable(),
    }


class Command(BaseCommand):
    help = "Initial access tokens for dynamic client registration: create, list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        add = subcommand_adder(parser)
        create = add("create", "Make a token; print it, once.")
        create.add_argument(
            "--expires-in",
            type=_positive(MAX_EXPIRES_IN),
            metavar="SECONDS",
            help="Refuse it this many seconds from now. Default: no expiry.",
        )
        create.add_argument(
            "--uses",
            type=_positive(MAX_USES),
            metavar="N",
            help="How many clients it may register. Default: no limit.",
        )
        create.add_argument(
            "--note", default="", help="Who it is for, and why (shown in list and the admin)."
        )
        add("list", "List the tokens (hints only).")
        revoke = add("revoke", "Revoke a token: it registers no more clients.")
        revoke.add_argument("id", type=_positive(2**63 - 1), metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        check_utf8(options)
        getattr(self, "handle_" + options["subcommand"])(**options)

    def handle_create(self, **options: Any) -> None:
        note = options["note"]
        if len(note) > 200 or not note.isprintable():
            raise CommandError("--note must be printable text of at most 200 characters.")
        expires_in = options["expires_in"]
        expires_at = timezone.now() + timedelta(seconds=expires_in) if expires_in else None
        row, value = new_initial_access_token(
            expires_at=expires_at, uses=options["uses"], note=note
        )
        if self.as_json:
            self.stdout.write(json.dumps({**token_data(row), "token": value}, indent=2))
            return
        self.stdout.write(self.style.SUCCESS(f"Created initial access token {row.pk}."))
        self.stdout.write(f"token: {value}")
        self.stdout.write(
            "Give it to the client's developer now: it is not shown again (afterwards only "
            f"its hint, {row.hint}). They send it as 'Authorization: Bearer <token>' to "
            "/oauth/register/."
        )

    def handle_list(self, **options: Any) -> None:
        rows = list(InitialAccessToken.objects.order_by("pk"))
        if self.as_json:
            self.stdout.write(json.dumps([token_data(r) for r in rows], indent=2))
            return
        if not rows:
            self.stdout.write("No initial access tokens.")
            return
        self.stdout.write(f"{'ID':>6}  {'HINT':<10}  {'STATE':<8}  {'USES LEFT':<9}  EXPIRES  NOTE")
        for r in rows:
            state = "usable" if r.is_usable() else ("revoked" if r.revoked else "dead")
            uses = "-" if r.uses_left is None else str(r.uses_left)
            expires = r.expires_at.isoformat(timespec="seconds") if r.expires_at else "-"
            self.stdout.write(
                f"{r.pk:>6}  {r.hint:<10}  {state:<8}  {uses:<9}  {expires}  {r.note}"
            )

    def handle_revoke(self, **options: Any) -> None:
        pk = options["id"]
        if not InitialAccessToken.objects.filter(pk=pk).update(revoked=True):
            raise CommandError(f"No initial access token {pk}.")
        if self.as_json:
            self.stdout.write(json.dumps({"id": pk, "revoked": True}, indent=2))
            return
        self.stdout.write(self.style.SUCCESS(f"Revoked initial access token {pk}."))
