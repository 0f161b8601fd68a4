"""manage.py oauthflow_keys: each subcommand, its --json output, and its errors."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from oauthflow import keys
from oauthflow.keys import encryption
from oauthflow.models import SigningKey
from tests.command_line import keep_test_connection, run_command, run_command_json  # noqa: F401 (an autouse fixture)

HOUR = timedelta(hours=1)
#: How long after it stops signing a key stays published (ID_TOKEN_LIFETIME's default).
AFTER_STOP = timedelta(seconds=3600 + keys.RELOAD_SECONDS)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    return run_command(capsys, "oauthflow_keys", *argv)


def run_json(capsys, *argv: str):
    return run_command_json(capsys, "oauthflow_keys", *argv)


def make(alg="RS256", *, signs_from, retired_at=None) -> SigningKey:
    key = keys.create_key(alg, signs_from=signs_from)
    if retired_at is not None:
        SigningKey.objects.filter(pk=key.pk).update(retired_at=retired_at)
        key.refresh_from_db()
    keys.forget()
    return key


def private_parts(key: SigningKey) -> list[str]:
    """The private members of ``key``'s JWK, and its encrypted form."""
    private = json.loads(encryption.decrypt(key.private_jwk_encrypted))
    return [key.private_jwk_encrypted, *(private[m] for m in PRIVATE_MEMBERS if m in private)]


def assert_nothing_private(text: str) -> None:
    for key in SigningKey.objects.all():
        for secret in private_parts(key):
            assert secret not in text
    assert "private_jwk" not in text


# create / rotate ---------------------------------------------------------------------------


def test_create_makes_a_key_that_signs_after_the_publish_delay(db, capsys):
    before = timezone.now()
    code, out, err = run(capsys, "create")
    assert code == 0, err
    key = SigningKey.objects.get()
    assert key.alg == "RS256"
    assert before + HOUR <= key.signs_from <= timezone.now() + HOUR
    assert f"Created RS256 key {key.kid}." in out
    assert "It is published now and takes over signing at" in out
    # No key signs meanwhile: said, with what to do about it.
    assert "No RS256 key signs before then" in out and "create --now" in out
    assert key.kid in {k["kid"] for k in keys.jwks()["keys"]}
    assert_nothing_private(out + err)


def test_create_now_signs_at_once(db, capsys):
    data = run_json(capsys, "create", "--alg", "ES256", "--now")
    key = SigningKey.objects.get()
    assert data["kid"] == key.kid and data["alg"] == "ES256"
    assert data["state"] == "signing" and data["published_until"] is None
    assert data["replaces"] is None
    assert keys.signing_key("ES256")[0] == key.kid
    assert set(data) == {
        "kid",
        "alg",
        "state",
        "created_at",
        "signs_from",
        "retired_at",
        "published_until",
        "replaces",
    }


def test_create_now_in_an_emergency_supersedes_the_signing_key_at_once(db, capsys):
    old = make(signs_from=timezone.now() - 10 * HOUR)
    code, out, _ = run(capsys, "create", "--now")
    assert code == 0
    new = SigningKey.objects.exclude(pk=old.pk).get()
    assert keys.signing_key("RS256")[0] == new.kid
    [state] = [s for s in keys.key_states() if s.key.pk == old.pk]
    assert state.state == "superseded"
    assert f"The key it replaces, {old.kid}, stops signing then" in out
    assert "meet a key they do not know yet" in out


def test_rotate_says_when_the_new_key_takes_over_and_how_long_the_old_stays(db, capsys):
    old = make(signs_from=timezone.now() - 10 * HOUR)
    code, out, err = run(capsys, "rotate")
    assert code == 0, err
    new = SigningKey.objects.exclude(pk=old.pk).get()
    takeover = timezone.localtime(new.signs_from).isoformat(sep=" ", timespec="seconds")
    until = timezone.localtime(new.signs_from + AFTER_STOP).isoformat(sep=" ", timespec="seconds")
    assert f"Created RS256 key {new.kid}." in out
    assert f"takes over signing at {takeover}" in out
    assert (
        f"The key it replaces, {old.kid}, stops signing then and stays published until {until}"
        in out
    )
    # Until then the old key signs, and both are published.
    assert keys.signing_key("RS256")[0] == old.kid
    assert {k["kid"] for k in keys.jwks()["keys"]} == {old.kid, new.kid}
    assert_nothing_private(out + err)


def test_rotate_json(db, capsys, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SIGNING_KEY_PUBLISH_DELAY": 900}
    old = make("ES256", signs_from=timezone.now() - 10 * HOUR)
    data = run_json(capsys, "rotate", "--alg", "ES256")
    new = SigningKey.objects.get(kid=data["kid"])
    assert data["state"] == "pending" and data["alg"] == "ES256"
    assert data["signs_from"] == new.signs_from.isoformat()
    assert data["replaces"] == {
        "kid": old.kid,
        "published_until": (new.signs_from + AFTER_STOP).isoformat(),
    }


def test_rotating_twice_replaces_the_key_already_waiting(db, capsys):
    current = make(signs_from=timezone.now() - 10 * HOUR)
    first = run_json(capsys, "rotate")
    code, out, _ = run(capsys, "rotate")
    assert code == 0
    assert f"The key it replaces, {first['kid']}," in out
    assert current.kid not in out.split("The key it replaces")[1]
    assert f"RS256 key {first['kid']} was already waiting to sign" in out


def test_rotate_without_a_signing_key_says_so(db, capsys):
    code, out, _ = run(capsys, "rotate", "--alg", "ES256")
    assert code == 0
    assert "No ES256 key signs before then" in out


# list ------------------------------------------------------------------------------------


def test_list_shows_each_key_state_and_how_long_it_is_published(db, capsys):
    now = timezone.now()
    old = make(signs_from=now - 10 * HOUR)
    current = make(signs_from=now - 10 * 60 * timedelta(seconds=1))
    waiting = make("ES256", signs_from=now + HOUR)
    expired = make("ES256", signs_from=now - 20 * HOUR, retired_at=now - 10 * HOUR)
    code, out, err = run(capsys, "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["KID", "ALG", "STATE", "SIGNS", "FROM", "PUBLISHED", "UNTIL"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[old.kid][1:3] == ["RS256", "superseded"]
    until = timezone.localtime(current.signs_from + AFTER_STOP)
    assert " ".join(rows[old.kid][5:7]) == until.isoformat(sep=" ", timespec="seconds")
    assert rows[current.kid][1:3] == ["RS256", "signing"] and rows[current.kid][-1] == "-"
    assert rows[waiting.kid][1:3] == ["ES256", "pending"]
    assert rows[expired.kid][1:3] == ["ES256", "expired"]
    # Oldest first.
    assert [line.split()[0] for line in lines[1:]] == [
        expired.kid,
        old.kid,
        current.kid,
        waiting.kid,
    ]
    assert_nothing_private(out + err)


def test_list_json_reports_no_private_material(db, capsys):
    now = timezone.now()
    key = make(signs_from=now - HOUR)
    retired = make("ES256", signs_from=now - 2 * HOUR, retired_at=now)
    data = run_json(capsys, "list")
    assert [k["kid"] for k in data] == [retired.kid, key.kid]
    assert data[0]["state"] == "retired"
    assert data[0]["retired_at"] == retired.retired_at.isoformat()
    assert data[0]["published_until"] == (retired.retired_at + AFTER_STOP).isoformat()
    assert data[1]["state"] == "signing" and data[1]["published_until"] is None
    assert_nothing_private(json.dumps(data))


def test_list_without_keys(db, capsys):
    assert run(capsys, "list") == (0, "No signing keys.\n", "")
    assert run_json(capsys, "list") == []


def test_list_reads_the_table_not_the_process_copy(db, capsys):
    key = make(signs_from=timezone.now() - HOUR)
    assert keys.jwks()["keys"]  # this process now keeps the table for a while
    SigningKey.objects.filter(pk=key.pk).update(retired_at=timezone.now())  # elsewhere
    assert run_json(capsys, "list")[0]["state"] == "retired"


# retire ----------------------------------------------------------------------------------


def test_retire_stops_signing_and_keeps_the_key_published(db, capsys):
    key = make(signs_from=timezone.now() - HOUR)
    code, out, err = run(capsys, "retire", key.kid)
    assert code == 0, err
    key.refresh_from_db()
    assert key.retired_at is not None
    until = timezone.localtime(key.retired_at + AFTER_STOP).isoformat(sep=" ", timespec="seconds")
    assert f"Retired RS256 key {key.kid}." in out
    assert f"It stays published until {until}" in out
    assert key.kid in {k["kid"] for k in keys.jwks()["keys"]}
    # It was the only one: the next signature makes a new key, as the command warns.
    assert "No RS256 key signs now" in out and "create --alg RS256 --now" in out
    assert keys.signing_key("RS256")[0] != key.kid


def test_retire_json(db, capsys):
    key = make("ES256", signs_from=timezone.now() - HOUR)
    data = run_json(capsys, "retire", key.kid)
    key.refresh_from_db()
    assert data["kid"] == key.kid and data["state"] == "retired"
    assert data["published_until"] == (key.retired_at + AFTER_STOP).isoformat()


def test_retiring_twice_says_so_and_changes_nothing(db, capsys):
    key = make(signs_from=timezone.now() - HOUR)
    run(capsys, "retire", key.kid)
    key.refresh_from_db()
    code, out, _ = run(capsys, "retire", key.kid)
    assert code == 0
    assert f"RS256 key {key.kid} was already retired" in out
    assert SigningKey.objects.get().retired_at == key.retired_at


def test_retire_with_a_successor_signing_gives_no_warning(db, capsys):
    now = timezone.now()
    old = make(signs_from=now - 10 * HOUR)
    make(signs_from=now - HOUR)
    code, out, _ = run(capsys, "retire", old.kid)
    assert code == 0
    assert "No RS256 key signs now" not in out


def test_retire_unpublish_deletes_the_key(db, capsys):
    key = make(signs_from=timezone.now() - HOUR)
    other = make("ES256", signs_from=timezone.now() - HOUR)
    code, out, err = run(capsys, "retire", key.kid, "--unpublish")
    assert code == 0, err
    assert not SigningKey.objects.filter(kid=key.kid).exists()
    assert SigningKey.objects.filter(kid=other.kid).exists()
    assert f"Unpublished and deleted RS256 key {key.kid}" in out
    assert "no longer verify" in out
    assert key.kid not in {k["kid"] for k in keys.jwks()["keys"]}


def test_retire_unpublish_json(db, capsys):
    key = make(signs_from=timezone.now() - HOUR)
    assert run_json(capsys, "retire", key.kid, "--unpublish") == {
        "kid": key.kid,
        "alg": "RS256",
        "state": "deleted",
        "unpublished": True,
    }


@pytest.mark.parametrize("extra", [[], ["--unpublish"]])
def test_retire_an_unknown_kid_is_a_clear_error(db, capsys, extra):
    make(signs_from=timezone.now() - HOUR)
    code, out, err = run(capsys, "retire", "no-such-kid", *extra)
    assert code == 1
    assert err == "CommandError: No signing key with kid 'no-such-kid'.\n"
    assert out == ""
    assert SigningKey.objects.get().retired_at is None


# prune -----------------------------------------------------------------------------------


def test_prune_deletes_the_keys_no_longer_published(db, capsys):
    now = timezone.now()
    expired = make(signs_from=now - 20 * HOUR, retired_at=now - 10 * HOUR)
    retired = make(signs_from=now - 2 * HOUR, retired_at=now - 60 * timedelta(seconds=1))
    current = make("ES256", signs_from=now - HOUR)
    code, out, _ = run(capsys, "prune")
    assert code == 0
    assert f"Deleted 1 key no longer published: {expired.kid}." in out
    assert set(SigningKey.objects.values_list("kid", flat=True)) == {retired.kid, current.kid}
    assert run(capsys, "prune") == (0, "No key to prune: every key is still published.\n", "")


def test_prune_json(db, capsys):
    now = timezone.now()
    expired = make(signs_from=now - 20 * HOUR, retired_at=now - 10 * HOUR)
    assert run_json(capsys, "prune") == {"deleted": [expired.kid]}
    assert run_json(capsys, "prune") == {"deleted": []}


# reencrypt and the encryption keys -----------------------------------------------------------


OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def encryption_keys(settings, *values):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SIGNING_KEY_ENCRYPTION_KEYS": list(values)}
    keys.forget()


def test_reencrypt_moves_every_key_to_the_first_encryption_key(db, capsys, settings):
    encryption_keys(settings, OLD)
    made = [make(signs_from=timezone.now() - HOUR), make("ES256", signs_from=timezone.now())]
    encryption_keys(settings, NEW, OLD)
    code, out, err = run(capsys, "reencrypt")
    assert code == 0, err
    assert "Re-encrypted 2 signing keys" in out
    assert "remove them" in out
    encryption_keys(settings, NEW)  # the old key removed
    for key in made:
        assert keys.signing_key(key.alg)[0] == key.kid
    assert run_json(capsys, "reencrypt") == {"reencrypted": 2}


def test_reencrypt_with_a_missing_key_is_a_clear_error_and_changes_nothing(db, capsys, settings):
    encryption_keys(settings, OLD)
    key = make(signs_from=timezone.now() - HOUR)
    encryption_keys(settings, NEW)  # OLD removed too early
    code, out, err = run(capsys, "reencrypt")
    assert code == 1
    assert err.startswith(f"CommandError: Signing key {key.kid} (RS256) does not decrypt")
    assert "nothing was re-encrypted" in err
    assert "Check OAUTHFLOW['SIGNING_KEY_ENCRYPTION_KEYS']" in err
    assert "Traceback" not in err and out == ""
    assert SigningKey.objects.get().private_jwk_encrypted == key.private_jwk_encrypted


def test_a_bad_encryption_key_is_a_command_error(db, settings):
    encryption_keys(settings, "not-a-fernet-key")
    with pytest.raises(CommandError, match="not a Fernet key"):
        call_command("oauthflow_keys", "create")
    assert not SigningKey.objects.exists()


def test_no_encryption_key_without_debug_stops_the_command_at_the_checks(db, capsys, settings):
    encryption_keys(settings)
    code, _, err = run(capsys, "create", "--now")
    assert code == 1
    assert "SystemCheckError" in err and "oauthflow.E011" in err
    assert "new-encryption-key" in err
    assert not SigningKey.objects.exists()
    # Without the checks, the store refuses it as clearly.
    with pytest.raises(CommandError, match="SIGNING_KEY_ENCRYPTION_KEYS'\\] is empty"):
        call_command("oauthflow_keys", "create", "--now")
    assert not SigningKey.objects.exists()


def test_new_encryption_key_prints_a_fresh_fernet_key_even_when_the_checks_fail(
    db, capsys, settings
):
    encryption_keys(settings)  # error oauthflow.E011: what the subcommand helps to fix
    code, out, err = run(capsys, "new-encryption-key")
    assert code == 0, err
    key = out.strip()
    assert out == key + "\n"  # the key alone on stdout, for a script
    Fernet(key.encode())
    assert "SIGNING_KEY_ENCRYPTION_KEYS" in err and "reencrypt" in err
    other = run_json(capsys, "new-encryption-key")["key"]
    assert encryption.is_fernet_key(other) and other != key
    assert not SigningKey.objects.exists()


# Arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--alg", "HS256"], "argument --alg: invalid choice: 'HS256'"),
        (["rotate", "--alg", "none"], "argument --alg: invalid choice: 'none'"),
        (["retire"], "the following arguments are required: KID"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: SUBCOMMAND"),
    ],
)
def test_bad_arguments_print_usage_and_exit_2(db, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err and message in err
    assert "Traceback" not in err
    assert not SigningKey.objects.exists()


def test_a_bad_algorithm_from_call_command_is_a_command_error(db):
    with pytest.raises(CommandError, match="invalid choice: 'HS256'"):
        call_command("oauthflow_keys", "create", "--alg", "HS256")
    assert not SigningKey.objects.exists()


def test_django_options_work_before_and_after_the_subcommand(db, capsys):
    make(signs_from=timezone.now() - HOUR)
    code, out, _ = run(capsys, "--skip-checks", "list", "--no-color", "--verbosity", "2", "--json")
    assert code == 0
    assert len(json.loads(out)) == 1
