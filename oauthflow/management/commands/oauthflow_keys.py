"""``manage.py oauthflow_keys``: the OpenID Connect signing keys (``oauthflow.keys``).

Subcommands: create, list, rotate, retire, prune, reencrypt, new-encryption-key. Each takes
``--json`` for scripts. Nothing prints private key material: ``list`` shows what the JWKS
endpoint shows of a key, and less. The only secret ever printed is the fresh encryption
key of ``new-encryption-key``, which touches no database.

The system checks run before every subcommand but ``new-encryption-key``: that one is how
a site fixes error ``oauthflow.E011`` (no encryption key), which would otherwise stop it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.utils import timezone

from oauthflow import keys
from oauthflow.keys import encryption
from oauthflow.keys.store import ALGORITHMS, PENDING, SIGNING
from oauthflow.models import Client, SigningKey

from .oauthflow_client import subcommand_adder

#: The algorithm a key is made for when none is named: every client's default.
DEFAULT_ALG = str(Client.id_token_signed_response_alg.field.get_default())


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def key_data(state: keys.KeyState) -> dict[str, Any]:
    """What ``list`` and ``--json`` report about a key: never its private part."""
    key = state.key
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": state.state,
        "created_at": _iso(key.created_at),
        "signs_from": _iso(key.signs_from),
        "retired_at": _iso(key.retired_at),
        # None while it is pending or signing: published for as long as that lasts.
        "published_until": _iso(state.published_until),
    }


def _rows() -> list[SigningKey]:
    """The table as it is now, not this process's copy of it."""
    table = SigningKey.objects.using(router.db_for_write(SigningKey))
    return list(table.order_by("signs_from", "pk"))


def _state(kid: str, now: datetime | None = None) -> keys.KeyState | None:
    return next((s for s in keys.key_states(now, _rows()) if s.key.kid == kid), None)


def _existing(kid: str) -> keys.KeyState:
    state = _state(kid)
    if state is None:
        raise CommandError(f"No signing key with kid {kid!r}.")
    return state


def _signer(alg: str, now: datetime | None = None) -> keys.KeyState | None:
    states = keys.key_states(now, _rows())
    return next((s for s in states if s.key.alg == alg and s.state == SIGNING), None)


class Command(BaseCommand):
    help = (
        "Manage the OpenID Connect signing keys: create, list, rotate, retire, prune, "
        "reencrypt, new-encryption-key."
    )
    # Run by handle() for every subcommand but new-encryption-key (see the module).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        # Django adds it only when requires_system_checks names checks.
        parser.add_argument("--skip-checks", action="store_true", help="Skip system checks.")
        add = subcommand_adder(parser)

        algs = list(ALGORITHMS)
        alg_help = f"One of {', '.join(algs)}. Default: {DEFAULT_ALG}."

        create = add(
            "create",
            "Make a signing key: published at once, it signs after "
            "OAUTHFLOW['SIGNING_KEY_PUBLISH_DELAY'] (or at once with --now).",
        )
        create.add_argument("--alg", choices=algs, default=DEFAULT_ALG, help=alg_help)
        create.add_argument(
            "--now",
            action="store_true",
            help="Sign with it at once: for a site's first key, or in an emergency (relying "
            "parties that cached the JWKS meet a key they do not know yet).",
        )
        add(
            "list",
            "List the signing keys: kid, algorithm, state, when each signs and how "
            "long it stays published.",
        )
        rotate = add(
            "rotate",
            "Make a key that takes over signing after the publish delay; the key it "
            "replaces stays published until what it signed has expired.",
        )
        rotate.add_argument("--alg", choices=algs, default=DEFAULT_ALG, help=alg_help)
        retire = add(
            "retire",
            "Stop signing with a key now; it stays published until what it signed has "
            "expired (or not at all, with --unpublish).",
        )
        retire.add_argument("kid", metavar="KID")
        retire.add_argument(
            "--unpublish",
            action="store_true",
            help="For a compromised key: delete it at once. The ID tokens it signed stop "
            "verifying.",
        )
        add("prune", "Delete the keys that are no longer published.")
        add(
            "reencrypt",
            "Encrypt every private key under the first key of "
            "OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'], so older ones can be removed.",
        )
        add(
            "new-encryption-key",
            "Print a fresh key for OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'].",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        subcommand = options["subcommand"]
        if subcommand != "new-encryption-key" and not options.get("skip_checks"):
            self.check()
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except keys.KeyDecryptionError as exc:
            raise CommandError(str(exc)) from None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

    # Subcommands ---------------------------------------------------------------------------

    def handle_create(self, **options: Any) -> None:
        self._make(options["alg"], now=options["now"])

    def handle_rotate(self, **options: Any) -> None:
        # What create does without --now, said for what it is for.
        self._make(options["alg"], now=False)

    def _make(self, alg: str, *, now: bool) -> None:
        waiting = [
            s for s in keys.key_states(rows=_rows()) if s.key.alg == alg and s.state == PENDING
        ]
        key = keys.create_key(alg, signs_from=timezone.now() if now else None)
        # The key that signs just before the new one takes over: the one signing now, or
        # one already waiting to.
        replaced = _signer(alg, key.signs_from - timedelta(microseconds=1))
        replaced_until = None
        if replaced is not None:
            after = _state(replaced.key.kid, key.signs_from)
            replaced_until = after.published_until if after else None
        if self.as_json:
            state = _existing(key.kid)
            replaces = None
            if replaced is not None:
                replaces = {"kid": replaced.key.kid, "published_until": _iso(replaced_until)}
            self._json({**key_data(state), "replaces": replaces})
            return
        self.stdout.write(self.style.SUCCESS(f"Created {alg} key {key.kid}."))
        if now:
            self.stdout.write("It is published and signs now.")
        else:
            self.stdout.write(
                f"It is published now and takes over signing at {_when(key.signs_from)}."
            )
        if replaced is not None:
            self.stdout.write(
                f"The key it replaces, {replaced.key.kid}, stops signing then and stays "
                f"published until {_when(replaced_until)} (ID_TOKEN_LIFETIME after it last "
                "signs, and a minute more); prune deletes it after that."
            )
            if now:
                self.stdout.write(
                    "Relying parties that cached the JWKS (for up to 10 minutes) meet a key "
                    "they do not know yet; most fetch the JWKS again when that happens."
                )
        elif not now:
            self.stdout.write(
                self.style.WARNING(
                    f"No {alg} key signs before then: until then, the next {alg} ID token "
                    "makes one that signs at once. For a site's first key, use create --now."
                )
            )
        for state in waiting:
            self.stdout.write(
                self.style.WARNING(
                    f"{alg} key {state.key.kid} was already waiting to sign, from "
                    f"{_when(state.key.signs_from)}."
                )
            )

    def handle_list(self, **options: Any) -> None:
        states = keys.key_states(rows=_rows())
        if self.as_json:
            self._json([key_data(s) for s in states])
            return
        if not states:
            self.stdout.write("No signing keys.")
            return
        header = ["KID", "ALG", "STATE", "SIGNS FROM", "PUBLISHED UNTIL"]
        table = [
            [
                s.key.kid,
                s.key.alg,
                s.state,
                _when(s.key.signs_from),
                _when(s.published_until),
            ]
            for s in states
        ]
        widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
        for row in [header, *table]:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())

    def handle_retire(self, **options: Any) -> None:
        kid = options["kid"]
        before = _existing(kid)
        alg = before.key.alg
        if keys.retire_key(kid, unpublish=options["unpublish"]) is None:
            raise CommandError(f"No signing key with kid {kid!r}.")  # deleted meanwhile
        if options["unpublish"]:
            if self.as_json:
                self._json({"kid": kid, "alg": alg, "state": "deleted", "unpublished": True})
                return
            self.stdout.write(
                self.style.SUCCESS(
                    f"Unpublished and deleted {alg} key {kid}: the ID tokens it signed no "
                    "longer verify."
                )
            )
            self.stdout.write(self._other_processes())
        else:
            already = before.key.retired_at is not None
            state = _existing(kid)
            if self.as_json:
                self._json(key_data(state))
                return
            if already:
                self.stdout.write(
                    f"{alg} key {kid} was already retired, at {_when(state.key.retired_at)}."
                )
            else:
                self.stdout.write(self.style.SUCCESS(f"Retired {alg} key {kid}."))
                self.stdout.write(self._other_processes())
            if state.published:
                self.stdout.write(
                    f"It stays published until {_when(state.published_until)}, so the ID "
                    "tokens it signed still verify; prune deletes it after that."
                )
            else:
                self.stdout.write("It is no longer published; prune deletes it.")
        if _signer(alg) is None:
            self.stdout.write(
                self.style.WARNING(
                    f"No {alg} key signs now: the next {alg} ID token makes one that signs "
                    f"at once. To make it yourself: manage.py oauthflow_keys create --alg "
                    f"{alg} --now"
                )
            )

    def handle_prune(self, **options: Any) -> None:
        deleted = keys.prune()
        if self.as_json:
            self._json({"deleted": deleted})
            return
        if not deleted:
            self.stdout.write("No key to prune: every key is still published.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {len(deleted)} key{'s' if len(deleted) != 1 else ''} no longer "
                f"published: {', '.join(deleted)}."
            )
        )

    def handle_reencrypt(self, **options: Any) -> None:
        count = keys.reencrypt_all()
        if self.as_json:
            self._json({"reencrypted": count})
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {count} signing key{'s' if count != 1 else ''} under the first "
                "key of OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS']."
            )
        )
        if len(encryption.configured_keys()) > 1:
            self.stdout.write(
                "No signing key needs the other keys of the setting now: remove them once "
                "every process runs with this first key."
            )

    def handle_new_encryption_key(self, **options: Any) -> None:
        key = keys.new_encryption_key()
        if self.as_json:
            self._json({"key": key})
            return
        # The key alone on stdout, so that a script can capture it; the advice on stderr.
        self.stdout.write(key)
        self.stderr.write(
            "Put it first in OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS'] (read it from the "
            "environment, like SECRET_KEY; never equal to it), keep the old keys after it, "
            "then run: manage.py oauthflow_keys reencrypt",
            style_func=lambda text: text,
        )

    # Helpers -------------------------------------------------------------------------------

    def _other_processes(self) -> str:
        return (
            "Processes that read the keys before this stop using it within "
            f"{keys.RELOAD_SECONDS} seconds."
        )

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2))
