"""``manage.py oauthflow_resource``: the APIs (resources, RFC 8707) clients get tokens for.

Subcommands: create, list, show, update, delete, allow, deny. Each takes ``--json`` for
scripts. A resource is named by its identifier, the URI its tokens carry in ``aud``; it is
fixed when the resource is made (APIs and tokens know it by it: delete and create again to
change it). ``allow`` and ``deny`` say which clients may ask for tokens for it, as the
client's "Resources (APIs)" do in the admin. Bad arguments write nothing: the resource is
validated (``full_clean``) before it is saved, inside a transaction.

Denying a client, deactivating or deleting a resource stops new tokens for it at once; a
token already issued stays valid until it expires (a JWT access token is checked by the API
alone). ``oauthflow_client revoke`` ends all of a client's tokens at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import prefetch_related_objects

from oauthflow.models import ID_TOKEN_ALGORITHMS, Client, Resource
from oauthflow.scope import scope_to_list
from oauthflow.settings import oauthflow_settings

from .oauthflow_client import (
    add_yes_option,
    check_utf8,
    confirm,
    invalid_values,
    print_json,
    split_values,
    subcommand_adder,
    validation_errors,
)

FORMATS = [name for name, _label in Resource.FORMATS]

# Which option to blame for a model field's validation error.
_OPTION_FOR_FIELD = {
    "identifier": "--identifier",
    "name": "--name",
    "scopes": "--scope",
    "token_format": "--format",
    "signing_alg": "--alg",
    "access_token_lifetime": "--lifetime",
    "is_active": "--active",
}

#: A resource's own lifetime stays within the bounds of the settings it stands in for
#: (ACCESS_TOKEN_LIFETIME, JWT_ACCESS_TOKEN_LIFETIME): a second to a day. The admin
#: holds it to the same.
LIFETIME_BOUNDS = (1, 24 * 3600)

#: ``update`` without ``--lifetime`` (``--lifetime default`` is None).
_UNCHANGED: Any = object()


def default_lifetime(token_format: str) -> int:
    """The lifetime of a token for a resource that sets none."""
    if token_format == Resource.JWT:
        return int(oauthflow_settings.JWT_ACCESS_TOKEN_LIFETIME)
    return int(oauthflow_settings.ACCESS_TOKEN_LIFETIME)


def resource_data(resource: Resource) -> dict[str, Any]:
    """What ``show`` and ``--json`` report about a resource."""
    return {
        "identifier": resource.identifier,
        "name": resource.name,
        "token_format": resource.token_format,
        "signing_alg": resource.signing_alg,
        # Empty means "every scope": tokens for it keep what was granted.
        "scopes": scope_to_list(resource.scopes),
        # None means the setting's: JWT_ACCESS_TOKEN_LIFETIME or ACCESS_TOKEN_LIFETIME.
        "access_token_lifetime": resource.access_token_lifetime,
        "effective_lifetime": resource.access_token_lifetime
        or default_lifetime(resource.token_format),
        "is_active": resource.is_active,
        # The clients that may ask for tokens for it.
        "clients": [c.client_id for c in resource.clients.all()],
        "created_at": resource.created_at.isoformat(),
    }


def _lifetime(value: str) -> int | None:
    """``--lifetime``: a number of seconds, or ``default`` for the setting's."""
    if value == "default":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of seconds (or 'default')."
        ) from None


class Command(BaseCommand):
    help = (
        "Register the APIs (resources, RFC 8707) clients ask for tokens for: create, list, show, "
        "update, delete, allow, deny."
    )
    # Tests hand in a fake terminal for delete's question.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        add = subcommand_adder(parser)

        create = add("create", "Register an API that accepts this server's access tokens.")
        create.add_argument(
            "--identifier",
            required=True,
            metavar="URI",
            help="The API's resource identifier, an absolute URI without a fragment (e.g. "
            "https://api.example.com/): clients name it in resource=, tokens in aud, the API "
            "in OAUTHFLOW['RESOURCE']. It cannot be changed afterwards.",
        )
        create.add_argument("--name", required=True, help="A name for people, e.g. 'Billing API'.")
        self._add_token_options(create, creating=True)

        add("list", "List the resources.")
        show = add("show", "Show one resource and the clients that may ask for tokens for it.")
        show.add_argument("identifier", metavar="IDENTIFIER")

        update = add("update", "Change a resource: only what the options name.")
        update.add_argument("identifier", metavar="IDENTIFIER")
        update.add_argument("--name", help="A name for people.")
        self._add_token_options(update, creating=False)
        active = update.add_mutually_exclusive_group()
        active.add_argument(
            "--active", dest="is_active", action="store_true", default=None, help="Issue tokens."
        )
        active.add_argument(
            "--inactive",
            dest="is_active",
            action="store_false",
            help="Issue no new tokens for it (those issued stay valid until they expire).",
        )

        delete = add(
            "delete",
            "Delete a resource: no client may ask for tokens for it any more (those issued stay "
            "valid until they expire).",
        )
        delete.add_argument("identifier", metavar="IDENTIFIER")
        add_yes_option(delete)

        for name, help in [
            ("allow", "Let a client ask for tokens for the resource."),
            (
                "deny",
                "Stop a client asking tokens for the resource (those issued stay valid "
                "until they expire).",
            ),
        ]:
            sub = add(name, help)
            sub.add_argument("identifier", metavar="IDENTIFIER")
            sub.add_argument("client_id", metavar="CLIENT_ID")

    def _add_token_options(self, parser: CommandParser, *, creating: bool) -> None:
        low, high = LIFETIME_BOUNDS
        scopes = parser.add_mutually_exclusive_group()
        scopes.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            default=[] if creating else None,
            metavar="SCOPE",
            help="A scope tokens for it may carry; repeat for several"
            + (". Default: all scopes." if creating else ". Replaces the list."),
        )
        if not creating:
            scopes.add_argument(
                "--all-scopes",
                action="store_true",
                help="Tokens for it may carry every scope (an empty list).",
            )
        parser.add_argument(
            "--format",
            dest="token_format",
            choices=FORMATS,
            default=Resource.OPAQUE if creating else None,
            help="opaque: checked in the database (introspection, or the API shares it); "
            "jwt: a signed JWT the API checks alone (RFC 9068)."
            + (" Default: %(default)s." if creating else ""),
        )
        parser.add_argument(
            "--alg",
            dest="signing_alg",
            choices=[alg for alg, _label in ID_TOKEN_ALGORITHMS],
            default="RS256" if creating else None,
            help="How its JWT access tokens are signed (ES256 is about four times faster)."
            + (" Default: %(default)s." if creating else ""),
        )
        parser.add_argument(
            "--lifetime",
            dest="access_token_lifetime",
            type=_lifetime,
            default=None if creating else _UNCHANGED,
            metavar="SECONDS",
            help=f"How long its access tokens live: {low} to {high} seconds, or 'default' for "
            "JWT_ACCESS_TOKEN_LIFETIME (JWTs) or ACCESS_TOKEN_LIFETIME (opaque tokens)."
            + (" Default: default." if creating else ""),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        check_utf8(options)
        handler = getattr(self, "handle_" + options["subcommand"])
        handler(**options)

    # Subcommands ---------------------------------------------------------------------------

    def handle_create(self, **options: Any) -> None:
        resource = Resource(
            identifier=options["identifier"],
            name=options["name"],
            scopes=" ".join(split_values(options["scopes"])),
            token_format=options["token_format"],
            signing_alg=options["signing_alg"],
            access_token_lifetime=options["access_token_lifetime"],
        )
        try:
            urlsplit(resource.identifier)
        except ValueError:
            # The model's validator would raise it (a traceback), not a ValidationError.
            raise invalid_values(
                {"identifier": ["A resource identifier is an absolute URI without a fragment."]},
                _OPTION_FOR_FIELD,
            ) from None
        with transaction.atomic():
            errors = validation_errors(resource)
            if errors:
                raise invalid_values(errors, _OPTION_FOR_FIELD)
            resource.save()
        if self.as_json:
            print_json(self, resource_data(resource))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f'Created resource "{resource.name}" ({resource.identifier}), '
                f"{resource.token_format} tokens."
            )
        )
        self.stdout.write(
            "No client may ask for tokens for it yet: oauthflow_resource allow "
            f"{resource.identifier} CLIENT_ID."
        )

    def handle_list(self, **options: Any) -> None:
        resources = list(Resource.objects.prefetch_related("clients").order_by("identifier"))
        if self.as_json:
            print_json(self, [resource_data(r) for r in resources])
            return
        if not resources:
            self.stdout.write("No resources.")
            return
        width = max(len("IDENTIFIER"), *(len(r.identifier) for r in resources))
        self.stdout.write(
            f"{'IDENTIFIER':<{width}}  {'FORMAT':<6}  {'LIFETIME':<8}  {'ACTIVE':<6}  "
            f"{'CLIENTS':<7}  NAME"
        )
        for r in resources:
            data = resource_data(r)
            lifetime = str(r.access_token_lifetime or "default")
            active = "yes" if r.is_active else "no"
            self.stdout.write(
                f"{r.identifier:<{width}}  {r.token_format:<6}  {lifetime:<8}  {active:<6}  "
                f"{len(data['clients']):<7}  {r.name}"
            )

    def handle_show(self, **options: Any) -> None:
        resource = _get(options["identifier"])
        prefetch_related_objects([resource], "clients")
        data = resource_data(resource)
        if self.as_json:
            print_json(self, data)
            return
        clients = list(resource.clients.all())
        lifetime = (
            f"{resource.access_token_lifetime}"
            if resource.access_token_lifetime
            else f"default ({data['effective_lifetime']})"
        )
        rows = [
            ("identifier", resource.identifier),
            ("name", resource.name),
            ("token_format", resource.token_format),
            ("scopes", " ".join(data["scopes"]) or "all"),
            ("lifetime", lifetime),
            ("is_active", "yes" if resource.is_active else "no"),
            ("created_at", data["created_at"]),
            ("clients", ", ".join(f"{c.client_id} ({c.name})" for c in clients) or "-"),
        ]
        for key, value in rows:
            self.stdout.write(f"{key + ':':<14} {value}")

    def handle_update(self, **options: Any) -> None:
        changes: dict[str, Any] = {}
        if options["name"] is not None:
            changes["name"] = options["name"]
        if options["all_scopes"]:
            changes["scopes"] = ""
        elif options["scopes"] is not None:
            changes["scopes"] = " ".join(split_values(options["scopes"]))
        for field in ("token_format", "signing_alg", "is_active"):
            if options[field] is not None:
                changes[field] = options[field]
        if options["access_token_lifetime"] is not _UNCHANGED:
            changes["access_token_lifetime"] = options["access_token_lifetime"]
        if not changes:
            raise CommandError(
                "Nothing to update: give --name, --scope, --all-scopes, --format, --alg, "
                "--lifetime, --active or --inactive."
            )
        with transaction.atomic():
            resource = _get(options["identifier"], for_update=True)
            for field, value in changes.items():
                setattr(resource, field, value)
            errors = validation_errors(resource)
            if errors:
                raise invalid_values(errors, _OPTION_FOR_FIELD, nothing="Nothing was changed")
            resource.save(update_fields=list(changes))
        if self.as_json:
            print_json(self, resource_data(resource))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Updated resource {resource.identifier}: {', '.join(sorted(changes))}."
            )
        )

    def handle_delete(self, **options: Any) -> None:
        resource = _get(options["identifier"])
        clients = resource.clients.count()
        if not options["yes"]:
            confirm(
                self,
                options.get("stdin") or sys.stdin,
                f'Delete the resource "{resource.name}" ({resource.identifier})? {clients} '
                "clients may ask for tokens for it; none will.",
            )
        resource.delete()
        if self.as_json:
            print_json(
                self, {"identifier": options["identifier"], "deleted": True, "clients": clients}
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f'Deleted the resource "{resource.name}" ({options["identifier"]}); '
                f"{clients} clients could ask for tokens for it."
            )
        )

    def handle_allow(self, **options: Any) -> None:
        self._permit(options, allow=True)

    def handle_deny(self, **options: Any) -> None:
        self._permit(options, allow=False)

    # Helpers -------------------------------------------------------------------------------

    def _permit(self, options: dict[str, Any], *, allow: bool) -> None:
        with transaction.atomic():
            resource = _get(options["identifier"])
            try:
                client = Client.objects.get(client_id=options["client_id"])
            except Client.DoesNotExist:
                raise CommandError(f"No client with client_id {options['client_id']!r}.") from None
            had = resource.clients.filter(pk=client.pk).exists()
            if allow and not had:
                resource.clients.add(client)
            elif not allow and had:
                resource.clients.remove(client)
        changed = had != allow
        if self.as_json:
            print_json(
                self,
                {
                    "identifier": resource.identifier,
                    "client_id": client.client_id,
                    "allowed": allow,
                    "changed": changed,
                },
            )
            return
        who = f'"{client.name}" ({client.client_id})'
        if allow:
            message = f"{who} may ask for tokens for {resource.identifier}"
        else:
            message = f"{who} may not ask for tokens for {resource.identifier}"
        self.stdout.write(
            self.style.SUCCESS(message + ("." if changed else " (it was so already)."))
        )
        if allow and not resource.is_active:
            self.stdout.write(
                self.style.WARNING(
                    "The resource is inactive: no tokens for it until oauthflow_resource "
                    f"update {resource.identifier} --active."
                )
            )


def _get(identifier: str, *, for_update: bool = False) -> Resource:
    queryset = Resource.objects.select_for_update() if for_update else Resource.objects.all()
    try:
        return queryset.get(identifier=identifier)
    except Resource.DoesNotExist:
        pass
    # The identifier is compared to the character (a token's aud is): point at a near miss.
    near = (
        Resource.objects.filter(identifier__in=[identifier.rstrip("/"), identifier + "/"])
        .exclude(identifier=identifier)
        .values_list("identifier", flat=True)
        .first()
    )
    hint = f" Did you mean {near!r}?" if near else ""
    raise CommandError(f"No resource with identifier {identifier!r}.{hint}")
