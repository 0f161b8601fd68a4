"""manage.py oauthflow_client: each subcommand, its --json output, and its errors."""

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from oauthflow.models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken
from tests import factories
from tests.command_line import FakeTerminal, keep_test_connection, run_command, run_command_json  # noqa: F401 (an autouse fixture)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    return run_command(capsys, "oauthflow_client", *argv)


def run_json(capsys, *argv: str):
    return run_command_json(capsys, "oauthflow_client", *argv)


# create ----------------------------------------------------------------------------------


def test_create_prints_client_id_and_secret_once(db, capsys):
    code, out, err = run(
        capsys, "create", "--name", "Photo Printer", "--redirect-uri", "https://p.example.com/cb"
    )
    assert code == 0, err
    client = Client.objects.get()
    assert client.name == "Photo Printer"
    assert client.is_confidential
    assert f"client_id:     {client.client_id}" in out
    secret = out.split("client_secret: ")[1].split()[0]
    assert client.check_client_secret(secret)
    assert client.secret_hint in out


def test_create_json_gives_everything_a_script_needs(db, capsys):
    data = run_json(
        capsys,
        "create",
        "--name",
        "API",
        "--redirect-uri",
        "https://a.example.com/cb",
        "--redirect-uri",
        "https://b.example.com/cb",
        "--scope",
        "read write",
        "--scope",
        "profile",
        "--default-scope",
        "read",
        "--skip-consent",
        "--introspect",
        "--homepage",
        "https://a.example.com/",
    )
    client = Client.objects.get(client_id=data["client_id"])
    assert client.check_client_secret(data["client_secret"])
    assert data["redirect_uris"] == ["https://a.example.com/cb", "https://b.example.com/cb"]
    assert data["allowed_scopes"] == ["read", "write", "profile"]
    assert data["default_scopes"] == ["read"]
    assert data["skip_consent"] is True and data["may_introspect"] is True
    assert data["homepage_url"] == "https://a.example.com/"
    assert data["secret_hint"] == client.secret_hint
    assert "secret_digest" not in data


def test_create_defaults_to_authorization_code_and_refresh_token(db, capsys):
    data = run_json(capsys, "create", "--name", "A", "--redirect-uri", "https://a.example.com/cb")
    assert data["grant_types"] == ["authorization_code", "refresh_token"]


def test_create_a_resource_server_that_only_introspects(db, capsys):
    # As docs/resource-server.md shows it: no grant, no redirect URI.
    data = run_json(capsys, "create", "--name", "Billing API", "--introspect")
    assert data["grant_types"] == [] and data["may_introspect"] is True
    assert data["client_secret"].startswith("ofcs_")
    # With a redirect URI, the usual grants stay the default.
    data = run_json(
        capsys,
        "create",
        "--name",
        "B",
        "--introspect",
        "--redirect-uri",
        "https://b.example.com/cb",
    )
    assert data["grant_types"] == ["authorization_code", "refresh_token"]


def test_create_public_client_has_no_secret(db, capsys):
    data = run_json(
        capsys, "create", "--name", "CLI", "--public", "--redirect-uri", "http://127.0.0.1/cb"
    )
    assert data["client_type"] == "public"
    assert data["client_secret"] is None and data["secret_hint"] is None
    assert Client.objects.get().secret_digest == ""


def test_create_client_credentials_client_needs_no_redirect_uri(db, capsys):
    data = run_json(capsys, "create", "--name", "Batch job", "--grant-type", "client_credentials")
    assert data["grant_types"] == ["client_credentials"]
    assert data["redirect_uris"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--redirect-uri", "http://p.example.com/cb"], "--redirect-uri: http://p.example.com/cb"),
        (["--redirect-uri", "https://p.example.com/cb#x"], "cannot have a fragment"),
        (["--redirect-uri", "myapp:/cb"], "reverse domain name"),
        ([], "--redirect-uri: The authorization_code grant needs at least one redirect URI"),
        (
            ["--redirect-uri", "https://p.example.com/cb", "--scope", "admin"],
            "--scope: Unknown scope(s): admin",
        ),
        (
            "--redirect-uri https://p.example.com/cb --scope read --default-scope write".split(),
            "--default-scope: Default scope(s) not allowed",
        ),
        (
            ["--public", "--grant-type", "client_credentials"],
            "--grant-type: client_credentials is only for confidential clients",
        ),
        (["--grant-type", "refresh_token"], "refresh_token is only issued"),
        (
            ["--redirect-uri", "https://p.example.com/cb", "--homepage", "not a url"],
            "--homepage: Enter a valid URL.",
        ),
    ],
)
def test_create_with_invalid_values_explains_and_writes_nothing(db, capsys, argv, message):
    code, out, err = run(capsys, "create", "--name", "X", *argv)
    assert code == 1
    assert err.startswith("CommandError: Nothing was created:")
    assert message in err
    assert "Traceback" not in err
    assert out == ""
    assert Client.objects.count() == 0


# create: OpenID Connect ------------------------------------------------------------------


def test_create_with_openid_connect_options(db, capsys):
    data = run_json(
        capsys,
        "create",
        "--name",
        "RP",
        "--redirect-uri",
        "https://rp.example.com/cb",
        "--post-logout-redirect-uri",
        "https://rp.example.com/bye",
        "--post-logout-redirect-uri",
        "https://rp.example.com/bye-again",
        "--backchannel-logout-uri",
        "https://rp.example.com/backchannel",
        "--id-token-alg",
        "ES256",
        "--subject-type",
        "pairwise",
        "--sector-identifier-uri",
        "https://rp.example.com/sector.json",
    )
    client = Client.objects.get(client_id=data["client_id"])
    assert client.post_logout_redirect_uris.split() == [
        "https://rp.example.com/bye",
        "https://rp.example.com/bye-again",
    ]
    assert client.backchannel_logout_uri == "https://rp.example.com/backchannel"
    assert client.id_token_signed_response_alg == "ES256"
    assert client.subject_type == "pairwise"
    assert client.sector_identifier_uri == "https://rp.example.com/sector.json"
    assert data["post_logout_redirect_uris"] == [
        "https://rp.example.com/bye",
        "https://rp.example.com/bye-again",
    ]
    assert data["backchannel_logout_uri"] == "https://rp.example.com/backchannel"
    assert data["id_token_signed_response_alg"] == "ES256"
    assert data["subject_type"] == "pairwise"
    assert data["sector_identifier_uri"] == "https://rp.example.com/sector.json"


def test_create_without_openid_connect_options_takes_the_models_defaults(db, capsys):
    data = run_json(capsys, "create", "--name", "A", "--redirect-uri", "https://a.example.com/cb")
    client = Client.objects.get()
    assert (client.id_token_signed_response_alg, client.subject_type) == ("RS256", "public")
    assert data["post_logout_redirect_uris"] == [] and data["backchannel_logout_uri"] == ""
    assert data["sector_identifier_uri"] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--post-logout-redirect-uri", "http://rp.example.com/bye"],
            "--post-logout-redirect-uri: http://rp.example.com/bye must use https",
        ),
        (
            ["--post-logout-redirect-uri", "https://rp.example.com/bye#x"],
            "--post-logout-redirect-uri: ",
        ),
        (
            ["--backchannel-logout-uri", "https://a.example.com/1 https://a.example.com/2"],
            "--backchannel-logout-uri: Only one back-channel logout URI.",
        ),
        (
            ["--backchannel-logout-uri", "myapp:/logout"],
            "--backchannel-logout-uri: ",
        ),
        (
            ["--sector-identifier-uri", "http://rp.example.com/sector.json"],
            "--sector-identifier-uri: The sector identifier URI must use https.",
        ),
        (
            ["--sector-identifier-uri", "not a url"],
            "--sector-identifier-uri: Enter a valid URL.",
        ),
        (
            ["--subject-type", "pairwise", "--redirect-uri", "https://other.example.org/cb"],
            "--sector-identifier-uri: A pairwise client whose redirect URIs are on several "
            "hosts needs a sector identifier URI",
        ),
    ],
)
def test_create_with_invalid_openid_connect_values_writes_nothing(db, capsys, argv, message):
    code, out, err = run(
        capsys, "create", "--name", "RP", "--redirect-uri", "https://rp.example.com/cb", *argv
    )
    assert code == 1, out
    assert err.startswith("CommandError: Nothing was created:")
    assert message in err
    assert out == ""
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--id-token-alg", "none"], "argument --id-token-alg: invalid choice: 'none'"),
        (["--id-token-alg", "HS256"], "invalid choice: 'HS256'"),
        (["--subject-type", "secret"], "argument --subject-type: invalid choice: 'secret'"),
    ],
)
def test_create_refuses_unknown_algorithms_and_subject_types(db, capsys, argv, message):
    code, _, err = run(capsys, "create", "--name", "RP", *argv)
    assert code == 2
    assert message in err
    assert not Client.objects.exists()


def test_show_lists_the_openid_connect_fields(db, capsys):
    client = factories.ClientFactory(
        post_logout_redirect_uris="https://client.example.com/bye",
        subject_type="pairwise",
    )
    code, out, _ = run(capsys, "show", client.client_id)
    assert code == 0
    lines = out.splitlines()
    assert "post_logout_redirect_uris: https://client.example.com/bye" in lines
    assert "backchannel_logout_uri: -" in lines
    assert "id_token_signed_response_alg: RS256" in lines
    assert "subject_type:   pairwise" in lines
    assert "sector_identifier_uri: -" in lines
    # The usual keys keep their column.
    assert f"client_id:      {client.client_id}" in lines


def test_create_with_an_empty_name_writes_nothing(db, capsys):
    code, _, err = run(capsys, "create", "--name", "", "--redirect-uri", "https://a.example.com/")
    assert code == 1 and "--name: This field cannot be blank." in err
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--redirect-uri", "https://a.example.com/cb"], "required: --name"),
        (["create", "--name", "X", "--grant-type", "implicit"], "invalid choice: 'implicit'"),
        (["create", "--name", "X", "--colour", "red"], "unrecognized arguments: --colour red"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: SUBCOMMAND"),
        (["show"], "the following arguments are required: CLIENT_ID"),
    ],
)
def test_bad_arguments_print_usage_and_exit_2(db, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err and message in err
    assert "Traceback" not in err and "CommandError" not in err
    assert Client.objects.count() == 0


def test_bad_subcommand_from_call_command_raises_command_error(db):
    with pytest.raises(CommandError, match="invalid choice: 'frobnicate'"):
        call_command("oauthflow_client", "frobnicate")


def test_django_options_work_after_the_subcommand(db, capsys):
    factories.ClientFactory(name="Listed")
    code, out, _ = run(capsys, "list", "--no-color", "--verbosity", "2", "--json")
    assert code == 0
    assert [c["name"] for c in json.loads(out)] == ["Listed"]


def test_secret_is_not_logged(db, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    data = run_json(capsys, "create", "--name", "A", "--redirect-uri", "https://a.example.com/")
    rotated = run_json(capsys, "rotate-secret", data["client_id"])
    assert data["client_secret"] not in caplog.text
    assert rotated["client_secret"] not in caplog.text


# list / show -----------------------------------------------------------------------------


def test_list_shows_every_client(db, capsys):
    first = factories.ClientFactory(name="Alpha")
    second = factories.PublicClientFactory(name="Beta", is_active=False)
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CLIENT_ID", "TYPE", "ACTIVE", "NAME"]
    assert lines[1].split() == [first.client_id, "confidential", "yes", "Alpha"]
    assert lines[2].split() == [second.client_id, "public", "no", "Beta"]
    assert first.secret not in out


def test_list_json(db, capsys):
    client = factories.ClientFactory()
    data = run_json(capsys, "list")
    assert [c["client_id"] for c in data] == [client.client_id]


def test_list_without_clients(db, capsys):
    assert run(capsys, "list") == (0, "No clients.\n", "")
    assert run_json(capsys, "list") == []


def test_show_reports_the_hint_never_the_secret(db, capsys):
    client = factories.ClientFactory(allowed_scopes="read")
    code, out, _ = run(capsys, "show", client.client_id)
    assert code == 0
    assert f"client_id:      {client.client_id}" in out
    assert f"secret_hint:    {client.secret_hint}" in out
    assert "allowed_scopes: read" in out
    assert client.secret not in out and client.secret_digest not in out
    data = run_json(capsys, "show", client.client_id)
    assert data["client_type"] == "confidential"
    assert client.secret not in json.dumps(data) and client.secret_digest not in json.dumps(data)


@pytest.mark.parametrize("subcommand", ["show", "rotate-secret", "revoke", "delete"])
def test_unknown_client_id_is_a_clear_error(db, capsys, subcommand):
    extra = ["--yes"] if subcommand == "delete" else []
    code, out, err = run(capsys, subcommand, "no-such-client", *extra)
    assert code == 1
    assert err == "CommandError: No client with client_id 'no-such-client'.\n"
    assert out == ""


def test_a_client_id_that_looks_like_an_option_can_follow_a_double_dash(db, capsys):
    client = factories.ClientFactory(client_id="-older-style-id")
    code, out, _ = run(capsys, "show", "--", client.client_id)
    assert code == 0 and "-older-style-id" in out


# rotate-secret ---------------------------------------------------------------------------


def test_rotate_secret_prints_a_new_secret_and_retires_the_old(db, capsys):
    client = factories.ClientFactory()
    code, out, _ = run(capsys, "rotate-secret", client.client_id)
    assert code == 0
    new = out.split("client_secret: ")[1].split()[0]
    client.refresh_from_db()
    assert client.check_client_secret(new)
    assert not client.check_client_secret(client.secret)


def test_rotate_secret_json(db, capsys):
    client = factories.ClientFactory()
    data = run_json(capsys, "rotate-secret", client.client_id)
    client.refresh_from_db()
    assert client.check_client_secret(data["client_secret"])
    assert data["secret_hint"] == client.secret_hint


def test_rotate_secret_of_a_public_client_is_refused(db, capsys):
    client = factories.PublicClientFactory()
    code, _, err = run(capsys, "rotate-secret", client.client_id)
    assert code == 1 and "has no secret to rotate" in err
    client.refresh_from_db()
    assert client.secret_digest == ""


# revoke ----------------------------------------------------------------------------------


def test_revoke_deactivates_and_revokes_every_token(db, capsys, revocations, committed):
    client = factories.ClientFactory()
    other = factories.AccessTokenFactory()
    issued = [
        factories.AccessTokenFactory(client=client),
        factories.RefreshTokenFactory(client=client),
        factories.AuthorizationCodeFactory(client=client),
    ]
    with committed():
        data = run_json(capsys, "revoke", client.client_id)
    assert data == {"client_id": client.client_id, "is_active": False, "revoked": 3}
    client.refresh_from_db()
    assert client.is_active is False
    for row in issued:
        row.refresh_from_db()
        assert row.revoked_at is not None
    other.refresh_from_db()
    assert other.revoked_at is None
    assert [(kw["by"], kw["client"]) for kw in revocations] == [("command", client)]


def test_revoke_text_output(db, capsys):
    client = factories.ClientFactory(name="Printer")
    factories.AccessTokenFactory(client=client)
    code, out, _ = run(capsys, "revoke", client.client_id)
    assert code == 0
    assert f'Deactivated "Printer" ({client.client_id}) and revoked 1 codes and tokens.' in out


# delete ----------------------------------------------------------------------------------


def _client_with_everything():
    client = factories.ClientFactory()
    first = factories.RefreshTokenFactory(client=client)
    factories.RefreshTokenFactory(client=client, rotated_from=first, family=first.family)
    factories.AccessTokenFactory(client=client)
    factories.AuthorizationCodeFactory(client=client)
    factories.ConsentFactory(client=client)
    return client


def test_delete_with_yes_removes_the_client_and_what_it_holds(db, capsys):
    client = _client_with_everything()
    kept = factories.AccessTokenFactory()
    data = run_json(capsys, "delete", client.client_id, "--yes")
    assert data == {
        "client_id": client.client_id,
        "deleted": True,
        "revoked": 4,
        "authorization_codes": 1,
        "access_tokens": 1,
        "refresh_tokens": 2,
        # OpenID Connect's sign-in records (oauthflow.store.cleanup.TABLES): none here.
        "authentications": 0,
        # The device flow's requests (oauthflow.device registers its table).
        "device_authorizations": 0,
        # oauthflow.par's waiting requests.
        "pushed_requests": 0,
        "consents": 1,
    }
    assert not Client.objects.filter(pk=client.pk).exists()
    for model in (AccessToken, RefreshToken, AuthorizationCode, Consent):
        assert not model.objects.filter(client_id=client.pk).exists()
    assert AccessToken.objects.filter(pk=kept.pk).exists()


@pytest.mark.parametrize("flag", ["--yes", "--no-input", "--noinput"])
def test_delete_flags_skip_the_question(db, capsys, flag):
    client = factories.ClientFactory()
    code, out, _ = run(capsys, "delete", client.client_id, flag)
    assert code == 0 and "Deleted" in out
    assert not Client.objects.exists()


def test_delete_without_yes_refuses_when_not_on_a_terminal(db, capsys, monkeypatch):
    client = _client_with_everything()
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped input is not an answer
    code, _, err = run(capsys, "delete", client.client_id)
    assert code == 1 and "Refusing to delete without --yes" in err
    assert Client.objects.filter(pk=client.pk, is_active=True).exists()
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()


def test_delete_asks_on_a_terminal(db):
    client = factories.ClientFactory(name="Doomed")
    out = io.StringIO()
    call_command(
        "oauthflow_client", "delete", client.client_id, stdin=FakeTerminal("yes\n"), stdout=out
    )
    assert 'Delete "Doomed"' in out.getvalue()
    assert not Client.objects.exists()


def test_delete_answer_other_than_yes_keeps_the_client(db):
    client = factories.ClientFactory()
    with pytest.raises(CommandError, match="Not deleted"):
        call_command(
            "oauthflow_client",
            "delete",
            client.client_id,
            stdin=FakeTerminal("y\n"),
            stdout=io.StringIO(),
        )
    assert Client.objects.filter(is_active=True).exists()


def test_nothing_in_the_database_holds_a_printed_secret(db, capsys):
    data = run_json(capsys, "create", "--name", "A", "--redirect-uri", "https://a.example.com/")
    dump = repr(list(Client.objects.values_list()))
    assert data["client_secret"] not in dump


def test_client_create_with_undecodable_name_is_a_clear_error(db):
    from django.core.management import CommandError, call_command

    from oauthflow.models import Client

    with pytest.raises(CommandError, match="not valid UTF-8"):
        call_command(
            "oauthflow_client",
            "create",
            "--name",
            "\udcff",
            "--redirect-uri",
            "https://a.example/cb",
        )
    assert not Client.objects.exists()


# Resources (APIs) ---------------------------------------------------------------------------


def _resource(identifier, **fields):
    from oauthflow.models import Resource

    return Resource.objects.create(identifier=identifier, name=identifier, **fields)


def test_create_with_resources(db, capsys):
    billing = _resource("https://billing.example.com/")
    photos = _resource("https://photos.example.com/", token_format="jwt")
    _resource("https://other.example.com/")
    data = run_json(
        capsys,
        "create",
        "--name",
        "Batch job",
        "--grant-type",
        "client_credentials",
        "--resource",
        "https://photos.example.com/",
        "--resource",
        "https://billing.example.com/",
    )
    client = Client.objects.get(client_id=data["client_id"])
    assert set(client.resources.all()) == {billing, photos}
    assert data["resources"] == ["https://billing.example.com/", "https://photos.example.com/"]


def test_create_without_resources_has_none(db, capsys):
    _resource("https://billing.example.com/")
    data = run_json(capsys, "create", "--name", "A", "--redirect-uri", "https://a.example.com/")
    assert data["resources"] == []
    assert not Client.objects.get().resources.exists()


def test_create_with_an_unknown_resource_writes_nothing(db, capsys):
    _resource("https://billing.example.com/")
    code, out, err = run(
        capsys,
        "create",
        "--name",
        "",
        "--grant-type",
        "client_credentials",
        "--resource",
        "https://billing.example.com/",
        "--resource",
        "https://nope.example.com/",
    )
    assert code == 1, out
    assert err.startswith("CommandError: Nothing was created:")
    # Reported with the model's errors, by option.
    assert "--name: This field cannot be blank." in err
    assert "--resource: No resource with identifier 'https://nope.example.com/'" in err
    assert not Client.objects.exists()


def test_show_and_list_report_the_resources(db, capsys, django_assert_max_num_queries):
    resource = _resource("https://billing.example.com/")
    client = factories.ClientFactory(name="With")
    client.resources.add(resource)
    factories.ClientFactory(name="Without")
    code, out, _ = run(capsys, "show", client.client_id)
    assert code == 0
    assert "resources:      https://billing.example.com/" in out.splitlines()
    _, out, _ = run(capsys, "show", Client.objects.get(name="Without").client_id)
    assert "resources:      -" in out.splitlines()
    assert run_json(capsys, "show", client.client_id)["resources"] == [resource.identifier]
    # list: one query for the resources of every client, not one per client.
    factories.ClientFactory().resources.add(resource)
    with django_assert_max_num_queries(2):
        call_command("oauthflow_client", "list", "--json", stdout=io.StringIO())
    listed = {c["name"]: c["resources"] for c in run_json(capsys, "list")}
    assert listed["With"] == [resource.identifier] and listed["Without"] == []
