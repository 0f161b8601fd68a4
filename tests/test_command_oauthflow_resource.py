"""manage.py oauthflow_resource: each subcommand, its --json output, and its errors; and
that what it sets is what the token endpoint then does."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from oauthflow.management.commands import oauthflow_resource
from oauthflow.models import Client, Resource
from oauthflow.settings import SETTINGS
from tests import factories
from tests.command_line import FakeTerminal, keep_test_connection, run_command, run_command_json  # noqa: F401 (an autouse fixture)
from tests.oauth_helpers import token_request

API = "https://api.example.com/"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    return run_command(capsys, "oauthflow_resource", *argv)


def run_json(capsys, *argv: str):
    return run_command_json(capsys, "oauthflow_resource", *argv)


def api(**fields) -> Resource:
    fields = {"identifier": API, "name": "API", **fields}
    return Resource.objects.create(**fields)


# create ----------------------------------------------------------------------------------


def test_create_with_the_defaults(db, capsys):
    code, out, err = run(capsys, "create", "--identifier", API, "--name", "Billing API")
    assert code == 0, err
    resource = Resource.objects.get()
    assert (resource.identifier, resource.name) == (API, "Billing API")
    assert resource.token_format == "opaque" and resource.scopes == ""
    assert resource.access_token_lifetime is None and resource.is_active
    assert f'Created resource "Billing API" ({API}), opaque tokens.' in out
    assert f"oauthflow_resource allow {API} CLIENT_ID" in out  # what to do next


def test_create_json_with_every_option(db, capsys):
    data = run_json(
        capsys,
        "create",
        "--identifier",
        API,
        "--name",
        "API",
        "--scope",
        "read write",
        "--scope",
        "profile",
        "--format",
        "jwt",
        "--lifetime",
        "120",
    )
    resource = Resource.objects.get()
    assert resource.scopes == "read write profile"
    assert (resource.token_format, resource.access_token_lifetime) == ("jwt", 120)
    assert data["identifier"] == API and data["scopes"] == ["read", "write", "profile"]
    assert data["token_format"] == "jwt"
    assert data["access_token_lifetime"] == data["effective_lifetime"] == 120
    assert data["is_active"] is True and data["clients"] == []
    assert data["created_at"] == resource.created_at.isoformat()


def test_the_effective_lifetime_is_the_settings_when_none_is_set(db, capsys, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "JWT_ACCESS_TOKEN_LIFETIME": 240}
    jwt = run_json(capsys, "create", "--identifier", API, "--name", "J", "--format", "jwt")
    assert (jwt["access_token_lifetime"], jwt["effective_lifetime"]) == (None, 240)
    opaque = run_json(capsys, "create", "--identifier", "https://o.example.com/", "--name", "O")
    assert opaque["effective_lifetime"] == 3600  # ACCESS_TOKEN_LIFETIME


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--identifier", "api.example.com"], "--identifier: A resource identifier is an absolute"),
        (["--identifier", "https://api.example.com/#x"], "--identifier: A resource identifier is"),
        (["--identifier", "https://api.example.com/a b"], "--identifier: A resource identifier"),
        (["--identifier", "https://bücher.example/"], "printable ASCII without spaces"),
        (["--identifier", "https://[::1/"], "--identifier: A resource identifier is an absolute"),
        (["--identifier", "https://x.example/" + "a" * 300], "--identifier: Ensure this value"),
        (["--identifier", API, "--name", ""], "--name: This field cannot be blank."),
        (["--identifier", API, "--scope", 'say"hi'], '--scope: Invalid scope name(s): say"hi'),
        (
            ["--identifier", API, "--lifetime", "0"],
            "--lifetime: Ensure this value is greater than or equal to 1",
        ),
        (
            ["--identifier", API, "--lifetime", "86401"],
            "--lifetime: Ensure this value is less than or equal to 86400.",
        ),
        (["--identifier", API, "--lifetime", "-5"], "--lifetime: Ensure this value is greater"),
    ],
)
def test_create_with_invalid_values_explains_and_writes_nothing(db, capsys, argv, message):
    argv = ["--name", "API", *argv] if "--name" not in argv else argv
    code, out, err = run(capsys, "create", *argv)
    assert code == 1, out
    assert err.startswith("CommandError: Nothing was created:")
    assert message in err
    assert "Traceback" not in err and out == ""
    assert not Resource.objects.exists()


def test_every_error_is_reported_at_once(db, capsys):
    code, _, err = run(capsys, "create", "--identifier", "nope", "--name", "", "--scope", "a\\b")
    assert code == 1
    assert "--identifier:" in err and "--name:" in err and "--scope:" in err


def test_an_identifier_is_unique(db, capsys):
    api()
    code, _, err = run(capsys, "create", "--identifier", API, "--name", "Again")
    assert code == 1
    assert "--identifier: Resource with this Identifier already exists." in err
    assert Resource.objects.get().name == "API"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--name", "X"], "required: --identifier"),
        (["create", "--identifier", API], "required: --name"),
        (
            ["create", "--identifier", API, "--name", "X", "--format", "paseto"],
            "argument --format: invalid choice: 'paseto'",
        ),
        (
            ["create", "--identifier", API, "--name", "X", "--lifetime", "soon"],
            "argument --lifetime: 'soon' is not a number of seconds",
        ),
        (["update", API, "--active", "--inactive"], "not allowed with argument"),
        (["update", API, "--scope", "read", "--all-scopes"], "not allowed with argument"),
        (["allow", API], "the following arguments are required: CLIENT_ID"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: SUBCOMMAND"),
    ],
)
def test_bad_arguments_print_usage_and_exit_2(db, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err and message in err
    assert "Traceback" not in err and "CommandError" not in err
    assert not Resource.objects.exists()


def test_undecodable_text_is_a_clear_error(db):
    with pytest.raises(CommandError, match="--name is not valid UTF-8"):
        call_command("oauthflow_resource", "create", "--identifier", API, "--name", "\udcff")
    assert not Resource.objects.exists()


def test_the_lifetime_bounds_are_those_of_the_lifetime_settings():
    for name in ("ACCESS_TOKEN_LIFETIME", "JWT_ACCESS_TOKEN_LIFETIME"):
        [setting] = [s for s in SETTINGS if s.name == name]
        assert setting.bounds == oauthflow_resource.LIFETIME_BOUNDS


# list / show -----------------------------------------------------------------------------


def test_list(db, capsys):
    billing = api(name="Billing", token_format="jwt", access_token_lifetime=120)
    Resource.objects.create(identifier="https://old.example.com/", name="Old", is_active=False)
    factories.ClientFactory().resources.add(billing)
    factories.ClientFactory().resources.add(billing)
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["IDENTIFIER", "FORMAT", "LIFETIME", "ACTIVE", "CLIENTS", "NAME"]
    assert lines[1] == [API, "jwt", "120", "yes", "2", "Billing"]
    assert lines[2] == ["https://old.example.com/", "opaque", "default", "no", "0", "Old"]


def test_list_json_and_no_resources(db, capsys):
    assert run(capsys, "list") == (0, "No resources.\n", "")
    assert run_json(capsys, "list") == []
    api()
    assert [r["identifier"] for r in run_json(capsys, "list")] == [API]


def test_show_names_the_clients(db, capsys):
    resource = api(scopes="read")
    printer = factories.ClientFactory(name="Printer")
    printer.resources.add(resource)
    code, out, _ = run(capsys, "show", API)
    assert code == 0
    lines = out.splitlines()
    assert f"identifier:    {API}" in lines
    assert "scopes:        read" in lines
    assert "lifetime:      default (3600)" in lines
    assert f"clients:       {printer.client_id} (Printer)" in lines
    data = run_json(capsys, "show", API)
    assert data["clients"] == [printer.client_id]


def test_show_all_scopes_and_no_clients(db, capsys):
    api()
    _, out, _ = run(capsys, "show", API)
    assert "scopes:        all" in out.splitlines()
    assert "clients:       -" in out.splitlines()


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "https://nope.example.com/"],
        ["update", "https://nope.example.com/", "--name", "X"],
        ["delete", "https://nope.example.com/", "--yes"],
        ["allow", "https://nope.example.com/", "some-client"],
        ["deny", "https://nope.example.com/", "some-client"],
    ],
)
def test_an_unknown_identifier_is_a_clear_error(db, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err == "CommandError: No resource with identifier 'https://nope.example.com/'.\n"


def test_a_near_miss_is_pointed_out(db, capsys):
    """Identifiers are compared to the character, as a token's aud is."""
    api()
    code, _, err = run(capsys, "show", "https://api.example.com")
    assert code == 1
    assert f"Did you mean {API!r}?" in err


# update ----------------------------------------------------------------------------------


def test_update_changes_only_what_is_named(db, capsys):
    resource = api(scopes="read", token_format="opaque", access_token_lifetime=600)
    code, out, err = run(capsys, "update", API, "--format", "jwt", "--name", "Renamed")
    assert code == 0, err
    assert f"Updated resource {API}: name, token_format." in out
    resource.refresh_from_db()
    assert (resource.name, resource.token_format) == ("Renamed", "jwt")
    assert (resource.scopes, resource.access_token_lifetime) == ("read", 600)


def test_update_scopes_lifetime_and_activity(db, capsys):
    resource = api(scopes="read", access_token_lifetime=600)
    data = run_json(capsys, "update", API, "--scope", "read write", "--lifetime", "90")
    assert data["scopes"] == ["read", "write"] and data["access_token_lifetime"] == 90
    data = run_json(capsys, "update", API, "--all-scopes", "--lifetime", "default", "--inactive")
    assert data["scopes"] == [] and data["access_token_lifetime"] is None
    assert data["is_active"] is False
    resource.refresh_from_db()
    assert (resource.scopes, resource.access_token_lifetime, resource.is_active) == (
        "",
        None,
        False,
    )
    assert run_json(capsys, "update", API, "--active")["is_active"] is True


def test_update_with_nothing_to_change_is_an_error(db, capsys):
    api()
    code, _, err = run(capsys, "update", API)
    assert code == 1 and "Nothing to update" in err


def test_update_with_invalid_values_changes_nothing(db, capsys):
    resource = api(name="Kept", access_token_lifetime=600)
    code, out, err = run(capsys, "update", API, "--name", "", "--lifetime", "100000")
    assert code == 1, out
    assert err.startswith("CommandError: Nothing was changed:")
    assert "--name: This field cannot be blank." in err
    assert "--lifetime: Ensure this value is less than or equal to 86400." in err
    resource.refresh_from_db()
    assert (resource.name, resource.access_token_lifetime) == ("Kept", 600)


def test_the_identifier_cannot_be_changed(db, capsys):
    api()
    code, _, err = run(capsys, "update", API, "--identifier", "https://new.example.com/")
    assert code == 2 and "unrecognized arguments: --identifier" in err


# delete ----------------------------------------------------------------------------------


def test_delete_with_yes(db, capsys):
    resource = api()
    client = factories.ClientFactory()
    client.resources.add(resource)
    data = run_json(capsys, "delete", API, "--yes")
    assert data == {"identifier": API, "deleted": True, "clients": 1}
    assert not Resource.objects.exists()
    assert Client.objects.filter(pk=client.pk).exists()  # the client stays, without it
    assert list(client.resources.all()) == []


def test_delete_text_output(db, capsys):
    api(name="Billing")
    code, out, _ = run(capsys, "delete", API, "--no-input")
    assert code == 0
    assert f'Deleted the resource "Billing" ({API}); 0 clients could ask' in out


def test_delete_without_yes_refuses_when_not_on_a_terminal(db, capsys, monkeypatch):
    api()
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped input is not an answer
    code, _, err = run(capsys, "delete", API)
    assert code == 1 and "Refusing to delete without --yes" in err
    assert Resource.objects.exists()


def test_delete_asks_on_a_terminal(db):
    api(name="Doomed")
    out = io.StringIO()
    call_command("oauthflow_resource", "delete", API, stdin=FakeTerminal("yes\n"), stdout=out)
    assert f'Delete the resource "Doomed" ({API})?' in out.getvalue()
    assert not Resource.objects.exists()


def test_delete_answer_other_than_yes_keeps_it(db):
    api()
    with pytest.raises(CommandError, match="Not deleted"):
        call_command(
            "oauthflow_resource", "delete", API, stdin=FakeTerminal("n\n"), stdout=io.StringIO()
        )
    assert Resource.objects.exists()


# allow / deny ----------------------------------------------------------------------------


def test_allow_and_deny(db, capsys):
    resource = api()
    client = factories.ClientFactory(name="Printer")
    code, out, _ = run(capsys, "allow", API, client.client_id)
    assert code == 0
    assert f'"Printer" ({client.client_id}) may ask for tokens for {API}.' in out
    assert list(client.resources.all()) == [resource]
    # Again: nothing changes, and it says so.
    data = run_json(capsys, "allow", API, client.client_id)
    assert data == {
        "identifier": API,
        "client_id": client.client_id,
        "allowed": True,
        "changed": False,
    }
    code, out, _ = run(capsys, "deny", API, client.client_id)
    assert code == 0 and "may not ask for tokens for" in out
    assert not client.resources.exists()
    assert run_json(capsys, "deny", API, client.client_id)["changed"] is False


def test_allow_an_inactive_resource_warns(db, capsys):
    api(is_active=False)
    client = factories.ClientFactory()
    code, out, _ = run(capsys, "allow", API, client.client_id)
    assert code == 0 and "The resource is inactive" in out
    assert client.resources.exists()


def test_allow_an_unknown_client(db, capsys):
    api()
    code, _, err = run(capsys, "allow", API, "no-such-client")
    assert code == 1
    assert err == "CommandError: No client with client_id 'no-such-client'.\n"


# What it sets is what the token endpoint does ----------------------------------------------


@pytest.fixture
def machine(db):
    return factories.ClientFactory(grant_types="client_credentials")


def tokens_for(http, client, resource=API):
    return token_request(
        http, client, {"grant_type": "client_credentials", "scope": "read", "resource": resource}
    )


def test_allow_deny_and_deactivate_decide_the_token_endpoints_answer(client, machine, capsys):
    run_json(capsys, "create", "--identifier", API, "--name", "API", "--lifetime", "90")
    assert tokens_for(client, machine).json()["error"] == "invalid_target"  # not allowed yet

    run_json(capsys, "allow", API, machine.client_id)
    body = tokens_for(client, machine).json()
    assert body["expires_in"] == 90 and body["access_token"].startswith("ofat_")

    run_json(capsys, "update", API, "--inactive")
    assert tokens_for(client, machine).json()["error"] == "invalid_target"
    run_json(capsys, "update", API, "--active")
    run_json(capsys, "deny", API, machine.client_id)
    assert tokens_for(client, machine).json()["error"] == "invalid_target"


def test_a_jwt_resource_made_by_the_command_gets_jwts(client, machine, capsys):
    run_json(capsys, "create", "--identifier", API, "--name", "API", "--format", "jwt")
    run_json(capsys, "allow", API, machine.client_id)
    body = tokens_for(client, machine).json()
    assert body["expires_in"] == 300  # JWT_ACCESS_TOKEN_LIFETIME
    assert body["access_token"].count(".") == 2


def test_the_resources_scopes_narrow_the_token(client, machine, capsys):
    run_json(capsys, "create", "--identifier", API, "--name", "API", "--scope", "read")
    run_json(capsys, "allow", API, machine.client_id)
    response = token_request(
        client,
        machine,
        {"grant_type": "client_credentials", "scope": "read write", "resource": API},
    )
    assert response.json()["scope"] == "read"
