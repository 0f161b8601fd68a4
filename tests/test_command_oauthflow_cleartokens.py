"""manage.py oauthflow_cleartokens and oauthflow.store.cleanup: what goes and what stays."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models.signals import post_delete
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from oauthflow.store.cleanup import clear_tokens
from tests import factories


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def later(**kwargs):
    return timezone.now() + timedelta(**kwargs)


def cleartokens(*args: str) -> dict:
    out = io.StringIO()
    call_command("oauthflow_cleartokens", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def statements(ctx: CaptureQueriesContext, verb: str, table: str) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith(verb) and q["sql"].split(" WHERE ")[0].find(table) != -1
    ]


# What goes and what stays ----------------------------------------------------------------


def test_expired_and_revoked_rows_go_active_rows_stay(db):
    active = [
        factories.AccessTokenFactory(),
        factories.RefreshTokenFactory(),
        factories.AuthorizationCodeFactory(),
    ]
    factories.AccessTokenFactory(expires_at=ago(seconds=1))
    factories.AccessTokenFactory(revoked_at=ago(minutes=1))
    factories.RefreshTokenFactory(expires_at=ago(days=1))
    factories.AuthorizationCodeFactory(expires_at=ago(seconds=5))
    factories.AuthorizationCodeFactory(revoked_at=ago(seconds=5))

    assert cleartokens() == {
        "authorization_codes": 2,
        "access_tokens": 2,
        "refresh_tokens": 1,
        "authentications": 0,
        "device_authorizations": 0,
        "wrong_user_codes": 0,
        "used_dpop_proofs": 0,
        "pushed_requests": 0,
        "used_client_assertions": 0,
        "initial_access_tokens": 0,
        "dry_run": False,
    }
    remaining = [*AccessToken.objects.all(), *RefreshToken.objects.all()]
    remaining += AuthorizationCode.objects.all()
    assert sorted(r.digest for r in remaining) == sorted(r.digest for r in active)


def test_a_row_expiring_exactly_now_is_expired(db):
    now = timezone.now()
    factories.AccessTokenFactory(expires_at=now)
    assert clear_tokens(now=now)["access_tokens"] == 1


def test_redeemed_code_is_kept_until_it_expires_for_reuse_detection(db):
    factories.AuthorizationCodeFactory(redeemed_at=ago(seconds=1))
    factories.AuthorizationCodeFactory(redeemed_at=ago(seconds=2), revoked_at=ago(seconds=1))
    assert cleartokens()["authorization_codes"] == 0
    assert AuthorizationCode.objects.count() == 2

    AuthorizationCode.objects.update(expires_at=ago(seconds=1))
    assert cleartokens()["authorization_codes"] == 2


def test_rotated_refresh_token_is_kept_until_its_family_ends_for_reuse_detection(db):
    old = factories.RefreshTokenFactory(rotated_at=ago(minutes=1), revoked_at=ago(minutes=1))
    new = factories.RefreshTokenFactory(rotated_from=old, family=old.family)
    assert cleartokens()["refresh_tokens"] == 0

    # Its own idle expiry is not enough: a thief may be refreshing the family.
    RefreshToken.objects.filter(pk=old.pk).update(expires_at=ago(seconds=1))
    assert cleartokens()["refresh_tokens"] == 0

    RefreshToken.objects.filter(pk=old.pk).update(family_expires_at=ago(seconds=1))
    assert cleartokens()["refresh_tokens"] == 1
    new.refresh_from_db()
    assert new.rotated_from is None  # SET_NULL, done for the batch


def test_revoked_but_unrotated_refresh_token_goes(db):
    factories.RefreshTokenFactory(revoked_at=ago(seconds=1))
    assert cleartokens()["refresh_tokens"] == 1


def test_dry_run_counts_and_deletes_nothing(db):
    factories.AccessTokenFactory(expires_at=ago(seconds=1))
    factories.RefreshTokenFactory(revoked_at=ago(seconds=1))
    factories.AccessTokenFactory()
    assert cleartokens("--dry-run") == {
        "authorization_codes": 0,
        "access_tokens": 1,
        "refresh_tokens": 1,
        "authentications": 0,
        "device_authorizations": 0,
        "wrong_user_codes": 0,
        "used_dpop_proofs": 0,
        "pushed_requests": 0,
        "used_client_assertions": 0,
        "initial_access_tokens": 0,
        "dry_run": True,
    }
    assert AccessToken.objects.count() == 2 and RefreshToken.objects.count() == 1


def test_text_report(db):
    factories.AccessTokenFactory(expires_at=ago(seconds=1))
    out = io.StringIO()
    call_command("oauthflow_cleartokens", stdout=out)
    assert out.getvalue().splitlines() == [
        "Deleted 0 authorization codes.",
        "Deleted 1 access tokens.",
        "Deleted 0 refresh tokens.",
        "Deleted 0 authentications.",
        "Deleted 0 device authorizations.",
        "Deleted 0 wrong user codes.",
        "Deleted 0 used dpop proofs.",
        "Deleted 0 pushed requests.",
        "Deleted 0 initial access tokens.",
        "Deleted 0 used client assertions.",
    ]
    out = io.StringIO()
    call_command("oauthflow_cleartokens", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would delete 0 authorization codes.")


def test_verbosity_zero_prints_nothing(db):
    out = io.StringIO()
    call_command("oauthflow_cleartokens", verbosity=0, stdout=out)
    assert out.getvalue() == ""


@pytest.mark.parametrize("value", ["0", "-5"])
def test_batch_size_must_be_positive(db, value):
    factories.AccessTokenFactory(expires_at=ago(seconds=1))
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("oauthflow_cleartokens", "--batch-size", value)
    assert AccessToken.objects.count() == 1


def test_batch_size_must_be_a_number(db):
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("oauthflow_cleartokens", "--batch-size", "many")


# Batches ---------------------------------------------------------------------------------


def test_batch_size_two_over_five_rows_deletes_in_three_batches(db):
    for _ in range(5):
        factories.AccessTokenFactory(expires_at=ago(seconds=1))
    live = factories.AccessTokenFactory()
    with CaptureQueriesContext(connection) as ctx:
        assert cleartokens("--batch-size", "2")["access_tokens"] == 5
    deletes = statements(ctx, "DELETE", "oauthflow_accesstoken")
    assert len(deletes) == 3
    assert list(AccessToken.objects.values_list("pk", flat=True)) == [live.pk]


@override_settings(OAUTHFLOW={"CLEARTOKENS_BATCH_SIZE": 2})
def test_batch_size_defaults_to_the_setting(db):
    for _ in range(5):
        factories.AuthorizationCodeFactory(expires_at=ago(seconds=1))
    with CaptureQueriesContext(connection) as ctx:
        assert cleartokens()["authorization_codes"] == 5
    assert len(statements(ctx, "DELETE", "oauthflow_authorizationcode")) == 3


def test_each_batch_runs_in_its_own_transaction(db):
    for _ in range(3):
        factories.AccessTokenFactory(expires_at=ago(seconds=1))
    with CaptureQueriesContext(connection) as ctx:
        clear_tokens(batch_size=1)
    sql = [q["sql"] for q in ctx.captured_queries]
    # Inside the test's own transaction, each batch's atomic block is a savepoint that is
    # released before the next batch starts.
    access_batches = [i for i, s in enumerate(sql) if s.startswith("DELETE") and "accesstoken" in s]
    assert len(access_batches) == 3
    for i in access_batches:
        assert sql[i + 1].startswith("RELEASE SAVEPOINT")


def test_queries_per_batch_do_not_grow_with_the_batch(db):
    """No per-row queries: a batch is one SELECT of keys, one UPDATE for the rotated_from
    references, one DELETE, however many rows it holds."""

    def chain(n):
        previous = None
        for _ in range(n):
            previous = factories.RefreshTokenFactory(
                expires_at=ago(seconds=1), rotated_from=previous
            )
        return factories.RefreshTokenFactory(rotated_from=previous)  # live successor

    counts = []
    for n in (3, 30):
        successor = chain(n)
        with CaptureQueriesContext(connection) as ctx:
            assert clear_tokens(batch_size=100)["refresh_tokens"] == n
        counts.append(
            [
                len(statements(ctx, verb, "oauthflow_refreshtoken"))
                for verb in ("SELECT", "UPDATE", "DELETE")
            ]
        )
        successor.refresh_from_db()
        assert successor.rotated_from is None
        successor.delete()
    assert counts == [[1, 1, 1], [1, 1, 1]]


def test_rotation_chains_across_batches_are_deleted(db):
    previous = None
    for _ in range(7):
        previous = factories.RefreshTokenFactory(expires_at=ago(seconds=1), rotated_from=previous)
    assert clear_tokens(batch_size=3)["refresh_tokens"] == 7
    assert not RefreshToken.objects.exists()


def test_kept_rows_between_deletable_ones_are_scanned_once(db):
    # Rows that stay are not revisited by later batches: each batch starts after the last
    # key of the one before.
    for i in range(6):
        if i % 2:
            factories.AccessTokenFactory()
        else:
            factories.AccessTokenFactory(expires_at=ago(seconds=1))
    with CaptureQueriesContext(connection) as ctx:
        assert clear_tokens(batch_size=1)["access_tokens"] == 3
    selects = statements(ctx, "SELECT", "oauthflow_accesstoken")
    assert len(selects) == 4  # three batches and the empty one that ends the walk
    assert all(f"{connection.ops.quote_name('id')} >" in s for s in selects[1:])
    assert AccessToken.objects.count() == 3


def test_delete_receivers_still_run(db):
    """A site's post_delete receiver makes cleanup take Django's slower, signal-sending
    path instead of raw deletes."""
    seen = []

    def receiver(instance, **kwargs):
        seen.append(instance.pk)

    token = factories.AccessTokenFactory(expires_at=ago(seconds=1))
    post_delete.connect(receiver, sender=AccessToken)
    try:
        assert clear_tokens()["access_tokens"] == 1
    finally:
        post_delete.disconnect(receiver, sender=AccessToken)
    assert seen == [token.pk]


def test_only_known_relations_point_at_credentials():
    """cleanup._delete clears SET_NULL references itself; anything else falls back to
    Django's collector. If this fails, a relation was added: check cleanup still fits."""
    incoming = {
        model.__name__: sorted(
            (rel.related_model.__name__, rel.field.name, rel.on_delete.__name__)
            for rel in model._meta.related_objects
        )
        for model in (AuthorizationCode, AccessToken, RefreshToken)
    }
    assert incoming == {
        "AuthorizationCode": [],
        "AccessToken": [],
        "RefreshToken": [("RefreshToken", "rotated_from", "SET_NULL")],
    }


def test_cleartokens_batch_size_below_one_is_a_check_error(settings):
    from oauthflow.checks import check_settings

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLEARTOKENS_BATCH_SIZE": 0}
    assert "oauthflow.E004" in [m.id for m in check_settings()]


def test_openid_sign_in_records_go_when_their_authorization_ends(db):
    from oauthflow.models import Authentication

    code = factories.AuthorizationCodeFactory()

    def record(expires_at):
        return Authentication.objects.create(
            family=factories.AuthorizationCodeFactory().family,
            client=code.client,
            user=code.user,
            sub="s",
            expires_at=expires_at,
        )

    kept = record(timezone.now() + timedelta(days=1))
    record(ago(seconds=1))
    assert cleartokens()["authentications"] == 1
    assert list(Authentication.objects.all()) == [kept]
