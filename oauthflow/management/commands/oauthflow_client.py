"""``manage.py oauthflow_client``: register and manage OAuth clients from the shell.

Subcommands: create, list, show, rotate-secret, revoke, delete. Each takes ``--json`` for
scripts. A client secret is printed once, by ``create`` and ``rotate-secret``; nothing
else ever prints it, and it is never logged. Bad arguments write nothing: the client is
validated (``full_clean``) before it is saved, inside a transaction.

The helpers below the field map (Django's options after the subcommand, the subcommand
parsers, errors by option, the question before deleting) serve ``oauthflow_keys`` and
``oauthflow_resource`` too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from oauthflow.models import ID_TOKEN_ALGORITHMS, SUBJECT_TYPES, Client, GrantType, Resource
from oauthflow.scope import scope_to_list
from oauthflow.server.registry import registry
from oauthflow.store.clients import deactivate_client, delete_client

#: Grants a new client gets when none is named.
DEFAULT_GRANT_TYPES = [str(GrantType.AUTHORIZATION_CODE), str(GrantType.REFRESH_TOKEN)]

# Which option to blame for a model field's validation error.
_OPTION_FOR_FIELD = {
    "name": "--name",
    "client_type": "--public",
    "redirect_uris": "--redirect-uri",
    "grant_types": "--grant-type",
    "allowed_scopes": "--scope",
    "default_scopes": "--default-scope",
    "homepage_url": "--homepage",
    "post_logout_redirect_uris": "--post-logout-redirect-uri",
    "backchannel_logout_uri": "--backchannel-logout-uri",
    "id_token_signed_response_alg": "--id-token-alg",
    "subject_type": "--subject-type",
    "sector_identifier_uri": "--sector-identifier-uri",
    "resources": "--resource",
    "allowed_origins": "--allowed-origin",
    "token_endpoint_auth_method": "--auth-method",
    "jwks": "--jwks",
    "jwks_uri": "--jwks-uri",
}


def client_data(client: Client) -> dict[str, Any]:
    """What ``show`` and ``--json`` report about a client: never the secret or its digest."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "client_type": client.client_type,
        "is_active": client.is_active,
        "redirect_uris": client.redirect_uri_list,
        "grant_types": client.grant_type_list,
        # Empty means "every scope the server knows".
        "allowed_scopes": scope_to_list(client.allowed_scopes),
        "default_scopes": scope_to_list(client.default_scopes),
        # The APIs (RFC 8707) it may ask for tokens for: oauthflow_resource allow/deny.
        "resources": [r.identifier for r in client.resources.all()],
        "skip_consent": client.skip_consent,
        "may_introspect": client.may_introspect,
        # DPoP (oauthflow.dpop): token requests without a proof are refused.
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        # PAR (oauthflow.par): authorization requests must be pushed first.
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        # How it authenticates: empty means from its type (a secret, or none).
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        # Its public keys (private_key_jwt): the JWK Set, or where to fetch it.
        "jwks": json.loads(client.jwks) if client.jwks.strip() else None,
        "jwks_uri": client.jwks_uri,
        # CORS (oauthflow.cors): empty means the origins of its redirect URIs.
        "allowed_origins": client.allowed_origins.split(),
        "homepage_url": client.homepage_url,
        "logo_url": client.logo_url,
        # OpenID Connect.
        "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "subject_type": client.subject_type,
        "sector_identifier_uri": client.sector_identifier_uri,
        "owner": str(client.owner) if client.owner_id else None,
        "secret_hint": client.secret_hint or None,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
    }


def _read_jwks(path: str) -> str:
    """The JWK Set in the file ``path`` (``-``: standard input), or "" for none."""
    if not path:
        return ""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"--jwks: cannot read {path}: {error}") from error


def split_values(values: list[str]) -> list[str]:
    """The values of a repeatable option: "--scope read --scope write" and
    "--scope 'read write'" both work."""
    return [item for value in values for item in value.split()]


def global_options() -> CommandParser:
    """Django's own options, accepted after the subcommand too (``list --settings=x``).

    Their default is SUPPRESS, so a value given before the subcommand is not overwritten.
    ``oauthflow_keys`` uses it too.
    """
    parser = CommandParser(add_help=False, argument_default=argparse.SUPPRESS)
    hidden = argparse.SUPPRESS  # listed once, in the command's own --help
    parser.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], help=hidden)
    parser.add_argument("--settings", help=hidden)
    parser.add_argument("--pythonpath", help=hidden)
    for flag in ("--traceback", "--no-color", "--force-color", "--skip-checks"):
        parser.add_argument(flag, action="store_true", help=hidden)
    return parser


def subcommand_adder(parser: CommandParser) -> Callable[[str, str], CommandParser]:
    """``add(name, help)``: a subcommand of ``parser`` that takes ``--json`` and Django's
    own options."""
    common = CommandParser(add_help=False, parents=[global_options()])
    common.add_argument(
        "--json", action="store_true", help="Print JSON instead of text, for scripts."
    )
    subcommands = parser.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", title="subcommands", required=True
    )

    def add(name: str, help: str) -> CommandParser:
        # Django < 5.1 does not hand called_from_command_line to subparsers; without it
        # a bad subcommand raises CommandError (a traceback) instead of printing usage.
        return subcommands.add_parser(
            name,
            help=help,
            description=help,
            parents=[common],
            called_from_command_line=parser.called_from_command_line,
        )

    return add


def check_utf8(options: dict[str, Any]) -> None:
    """Refuse an argument the terminal could not decode: such bytes reach Python as lone
    surrogates, which no column can store."""
    for name, value in options.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not is_utf8(item):
                raise CommandError(f"--{name.replace('_', '-')} is not valid UTF-8 text.")


def confirm(command: BaseCommand, stdin: Any, question: str) -> None:
    """Ask ``question`` on a terminal; refuse when not run from one (a script must say
    ``--yes``) and unless the answer is yes."""
    if not stdin.isatty():
        raise CommandError(
            "Refusing to delete without --yes (or --no-input) when not run from a terminal."
        )
    command.stdout.write(f"{question} Type 'yes' to continue: ", ending="")
    command.stdout.flush()
    if stdin.readline().strip().lower() != "yes":
        raise CommandError("Not deleted.")


def add_yes_option(parser: CommandParser) -> None:
    parser.add_argument(
        "--yes",
        "--no-input",
        "--noinput",
        dest="yes",
        action="store_true",
        help="Do not ask. Without it, delete asks on a terminal and refuses otherwise.",
    )


def invalid_values(
    errors: dict[str, list[str]],
    option_for_field: dict[str, str],
    *,
    nothing: str = "Nothing was created",
) -> CommandError:
    """A model's validation errors (``ValidationError.message_dict``), each by the option
    that set the field."""
    lines = []
    for field, messages in errors.items():
        option = "" if field == NON_FIELD_ERRORS else option_for_field.get(field, field)
        lines += [f"{option}: {m}" if option else m for m in messages]
    return CommandError(f"{nothing}:\n  " + "\n  ".join(lines))


def validation_errors(instance: Any) -> dict[str, list[str]]:
    """``instance.full_clean()``'s errors by field; empty when it is valid."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {}


def print_json(command: BaseCommand, data: Any) -> None:
    command.stdout.write(json.dumps(data, indent=2))


class Command(BaseCommand):
    help = "Register and manage OAuth clients: create, list, show, rotate-secret, revoke, delete."
    # Tests hand in a fake terminal for delete's question.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        add = subcommand_adder(parser)
        create = add("create", "Register a client; print its client_id and, once, its secret.")
        create.add_argument("--name", required=True, help="Shown to users on the consent page.")
        create.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="append",
            default=[],
            metavar="URI",
            help="A redirect URI; repeat for several. Needed by authorization_code.",
        )
        create.add_argument(
            "--public",
            action="store_true",
            help="A public client (native or browser app): no secret, PKCE only.",
        )
        grant_types = registry.grant_types()
        create.add_argument(
            "--grant-type",
            dest="grant_types",
            action="append",
            choices=grant_types,
            metavar="GRANT_TYPE",
            help=f"One of {', '.join(grant_types)}; repeat for several. "
            f"Default: {' and '.join(DEFAULT_GRANT_TYPES)}, or none with --introspect and "
            "no --redirect-uri (a resource server that only introspects).",
        )
        create.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            default=[],
            metavar="SCOPE",
            help="A scope the client may ask for; repeat for several. Default: all scopes.",
        )
        create.add_argument(
            "--default-scope",
            dest="default_scopes",
            action="append",
            default=[],
            metavar="SCOPE",
            help="A scope granted when the client asks for none; repeat for several.",
        )
        create.add_argument(
            "--skip-consent",
            action="store_true",
            help="First-party apps only: never show the consent page.",
        )
        create.add_argument(
            "--introspect",
            action="store_true",
            help="May call the token introspection endpoint (RFC 7662).",
        )
        create.add_argument(
            "--require-par",
            action="store_true",
            help="Refuse its authorization requests unless pushed first (RFC 9126; needs "
            "oauthflow.par).",
        )
        create.add_argument(
            "--dpop",
            action="store_true",
            help="Refuse its token requests without a DPoP proof: its tokens are always "
            "bound to its key (RFC 9449; needs oauthflow.dpop).",
        )
        create.add_argument(
            "--allowed-origin",
            dest="allowed_origins",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="Public clients: a web origin (https://app.example) whose pages may call the "
            "token, revocation and UserInfo endpoints; repeat for several. Default: the "
            "origins of its https and loopback redirect URIs.",
        )
        keys = create.add_argument_group("Authentication with keys (oauthflow.private_key_jwt)")
        keys.add_argument(
            "--auth-method",
            default="",
            metavar="METHOD",
            help="How the client authenticates: client_secret_basic, client_secret_post, none "
            "or private_key_jwt. Default: from its type (a secret, or none if --public).",
        )
        keys.add_argument(
            "--jwks",
            default="",
            metavar="FILE",
            help="A file holding the client's public keys as a JWK Set (JSON); - reads "
            "standard input.",
        )
        keys.add_argument(
            "--jwks-uri",
            default="",
            metavar="URL",
            help="Where the provider fetches the client's public keys (https).",
        )
        create.add_argument("--homepage", default="", metavar="URL", help="The client's homepage.")
        create.add_argument(
            "--resource",
            dest="resources",
            action="append",
            default=[],
            metavar="IDENTIFIER",
            help="An API (RFC 8707 resource, see oauthflow_resource) the client may ask for "
            "tokens for; repeat for several. Default: none.",
        )
        oidc = create.add_argument_group("OpenID Connect")
        oidc.add_argument(
            "--post-logout-redirect-uri",
            dest="post_logout_redirect_uris",
            action="append",
            default=[],
            metavar="URI",
            help="Where the user may be sent back after signing out at the provider; repeat "
            "for several.",
        )
        oidc.add_argument(
            "--backchannel-logout-uri",
            default="",
            metavar="URI",
            help="Where the provider POSTs a logout token when the user's session ends.",
        )
        oidc.add_argument(
            "--id-token-alg",
            choices=[alg for alg, _ in ID_TOKEN_ALGORITHMS],
            default=str(Client.id_token_signed_response_alg.field.get_default()),
            help="The algorithm its ID tokens are signed with. Default: %(default)s.",
        )
        oidc.add_argument(
            "--subject-type",
            choices=[kind for kind, _ in SUBJECT_TYPES],
            default=str(Client.subject_type.field.get_default()),
            help="public: the same sub for every client; pairwise: a sub of its own for the "
            "client's sector. Default: %(default)s.",
        )
        oidc.add_argument(
            "--sector-identifier-uri",
            default="",
            metavar="URI",
            help="Pairwise only: clients with the same sector (this https URI's host) see the "
            "same sub. Needed when the redirect URIs are on several hosts.",
        )

        add("list", "List the clients.")
        for name, help in [
            ("show", "Show one client."),
            ("rotate-secret", "Give a confidential client a new secret; print it, once."),
            ("revoke", "Deactivate a client and revoke every code and token it holds."),
            ("delete", "Delete a client and everything issued to it."),
        ]:
            sub = add(name, help)
            sub.add_argument("client_id", metavar="CLIENT_ID")
            if name == "delete":
                add_yes_option(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        check_utf8(options)
        handler = getattr(self, "handle_" + options["subcommand"].replace("-", "_"))
        handler(**options)

    # Subcommands ---------------------------------------------------------------------------

    def handle_create(self, **options: Any) -> None:
        client = Client(
            name=options["name"],
            client_type=Client.PUBLIC if options["public"] else Client.CONFIDENTIAL,
            redirect_uris="\n".join(options["redirect_uris"]),
            grant_types=" ".join(_grant_types(options)),
            allowed_scopes=" ".join(split_values(options["scopes"])),
            default_scopes=" ".join(split_values(options["default_scopes"])),
            skip_consent=options["skip_consent"],
            may_introspect=options["introspect"],
            dpop_bound_access_tokens=options["dpop"],
            require_pushed_authorization_requests=options["require_par"],
            allowed_origins="\n".join(options["allowed_origins"]),
            homepage_url=options["homepage"],
            post_logout_redirect_uris="\n".join(options["post_logout_redirect_uris"]),
            backchannel_logout_uri=options["backchannel_logout_uri"],
            id_token_signed_response_alg=options["id_token_alg"],
            subject_type=options["subject_type"],
            sector_identifier_uri=options["sector_identifier_uri"],
            token_endpoint_auth_method=options["auth_method"],
            jwks=_read_jwks(options["jwks"]),
            jwks_uri=options["jwks_uri"],
        )
        secret = client.set_secret() if client.uses_secret else None
        with transaction.atomic():
            errors = validation_errors(client)
            resources = _resources(split_values(options["resources"]), errors)
            if errors:
                raise invalid_values(errors, _OPTION_FOR_FIELD)
            client.save()
            if resources:
                client.resources.set(resources)
        if self.as_json:
            self._json({**client_data(client), "client_secret": secret})
            return
        self.stdout.write(
            self.style.SUCCESS(f'Created {client.client_type} client "{client.name}".')
        )
        self.stdout.write(f"client_id:     {client.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write(
                "Store the secret now: it is not shown again (afterwards only its hint, "
                f"{client.secret_hint}). If it is lost, use rotate-secret."
            )

    def handle_list(self, **options: Any) -> None:
        clients = list(
            Client.objects.select_related("owner")
            .prefetch_related("resources")
            .order_by("name", "pk")
        )
        if self.as_json:
            self._json([client_data(c) for c in clients])
            return
        if not clients:
            self.stdout.write("No clients.")
            return
        width = max(len("CLIENT_ID"), *(len(c.client_id) for c in clients))
        self.stdout.write(f"{'CLIENT_ID':<{width}}  {'TYPE':<12}  {'ACTIVE':<6}  NAME")
        for c in clients:
            active = "yes" if c.is_active else "no"
            self.stdout.write(f"{c.client_id:<{width}}  {c.client_type:<12}  {active:<6}  {c.name}")

    def handle_show(self, **options: Any) -> None:
        data = client_data(self._get(options["client_id"]))
        if self.as_json:
            self._json(data)
            return
        for key, value in data.items():
            if isinstance(value, list):
                value = " ".join(value) if value else "-"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, dict):
                value = json.dumps(value)  # the JWK Set: JSON, to copy into a file
            # One column for the usual keys; a longer key (the OpenID Connect ones) is
            # followed by a single space.
            label = f"{key + ':':<15}"
            self.stdout.write(f"{label} {value if value not in ('', None) else '-'}")

    def handle_rotate_secret(self, **options: Any) -> None:
        with transaction.atomic():
            client = self._get(options["client_id"], for_update=True)
            if not client.uses_secret:
                raise CommandError(
                    f"Client {client.client_id} has no secret to rotate: it is public or "
                    "authenticates with keys."
                )
            secret = client.set_secret()
            client.save(update_fields=Client.SECRET_FIELDS)
        if self.as_json:
            self._json(
                {
                    "client_id": client.client_id,
                    "client_secret": secret,
                    "secret_hint": client.secret_hint,
                }
            )
            return
        self.stdout.write(self.style.SUCCESS(f'New secret for "{client.name}".'))
        self.stdout.write(f"client_id:     {client.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(
            "The old secret no longer works. Store this one now: it is not shown again."
        )

    def handle_revoke(self, **options: Any) -> None:
        client = self._get(options["client_id"])
        revoked = deactivate_client(client, by="command")
        if self.as_json:
            self._json({"client_id": client.client_id, "is_active": False, "revoked": revoked})
            return
        self.stdout.write(
            self.style.SUCCESS(
                f'Deactivated "{client.name}" ({client.client_id}) and revoked {revoked} '
                "codes and tokens."
            )
        )

    def handle_delete(self, **options: Any) -> None:
        client = self._get(options["client_id"])
        if not options["yes"]:
            self._confirm_delete(client, options.get("stdin") or sys.stdin)
        # The store's delete_client: deactivated and revoked at once, then the rows in
        # short batches (a busy client may hold millions), then the client and consents.
        deleted = delete_client(client, by="command")
        if self.as_json:
            self._json({"client_id": options["client_id"], "deleted": True, **deleted})
            return
        counts = ", ".join(
            f"{n} {name.replace('_', ' ')}" for name, n in deleted.items() if name != "revoked"
        )
        self.stdout.write(
            self.style.SUCCESS(f'Deleted "{client.name}" ({options["client_id"]}): {counts}.')
        )

    # Helpers -------------------------------------------------------------------------------

    def _get(self, client_id: str, *, for_update: bool = False) -> Client:
        # Locking, read the client's row alone: PostgreSQL cannot lock an outer-joined
        # owner, and MariaDB knows no FOR UPDATE OF.
        queryset = (
            Client.objects.select_for_update()
            if for_update
            else Client.objects.select_related("owner")
        )
        try:
            return queryset.get(client_id=client_id)
        except Client.DoesNotExist:
            raise CommandError(f"No client with client_id {client_id!r}.") from None

    def _confirm_delete(self, client: Client, stdin: Any) -> None:
        confirm(
            self,
            stdin,
            f'Delete "{client.name}" ({client.client_id}), its codes, tokens and consents?',
        )

    def _json(self, data: Any) -> None:
        print_json(self, data)


def _resources(identifiers: list[str], errors: dict[str, list[str]]) -> list[Resource]:
    """The resources named by ``--resource``; an unknown one is added to ``errors``."""
    if not identifiers:
        return []
    found = {r.identifier: r for r in Resource.objects.filter(identifier__in=identifiers)}
    for identifier in dict.fromkeys(identifiers):
        if identifier not in found:
            errors.setdefault("resources", []).append(
                f"No resource with identifier {identifier!r} (see oauthflow_resource list)."
            )
    return list(found.values())


def is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _grant_types(options: dict[str, Any]) -> list[str]:
    """The grant types asked for; by default the usual ones, or none for a client that
    only introspects (``--introspect`` and no redirect URI: a resource server)."""
    if options["grant_types"]:
        return list(options["grant_types"])
    if options["introspect"] and not options.get("redirect_uris"):
        return []
    return list(DEFAULT_GRANT_TYPES)
