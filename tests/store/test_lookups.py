"""oauthflow.store.lookups: the hot-path lookups return exactly what the ORM returns."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Model
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauthflow.models import AccessToken, AuthorizationCode, Client, RefreshToken
from oauthflow.store import lookups
from tests import factories

pytestmark = pytest.mark.django_db


def fields(instance: Model) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def assert_same(found: Model, expected: Model, related: tuple[str, ...]) -> None:
    """Same class, same values (converted the same way), same state, and the same related
    rows already loaded: reading them costs no query."""
    assert type(found) is type(expected)
    assert fields(found) == fields(expected)
    assert found._state.db == expected._state.db
    assert found._state.adding is False
    with CaptureQueriesContext(connection) as context:
        for name in related:
            mine, theirs = getattr(found, name), getattr(expected, name)
            if theirs is None:
                assert mine is None
            else:
                assert fields(mine) == fields(theirs)
                assert mine._state.adding is False
    assert context.captured_queries == []


def test_access_token_matches_the_orm():
    token = factories.AccessTokenFactory(scope="read write")
    found = lookups.access_token.get(token.digest)
    expected = AccessToken.objects.select_related("client", "user").get(digest=token.digest)
    assert_same(found, expected, ("client", "user"))
    # Values come back as Python types, not the database's raw ones (SQLite: strings).
    assert found.expires_at == token.expires_at and found.expires_at.tzinfo is not None
    assert found.family == token.family


def test_a_token_without_a_user_has_none_loaded():
    client = factories.ClientFactory(grant_types="client_credentials")
    token = factories.AccessTokenFactory(client=client, user=None)
    found = lookups.access_token.get(token.digest)
    expected = AccessToken.objects.select_related("client", "user").get(pk=token.pk)
    assert_same(found, expected, ("client", "user"))
    assert found.user is None


def test_refresh_tokens_and_codes_match_the_orm():
    parent = factories.RefreshTokenFactory(rotated_at=timezone.now())
    child = factories.RefreshTokenFactory(
        client=parent.client, user=parent.user, family=parent.family, rotated_from=parent
    )
    code = factories.AuthorizationCodeFactory(code_challenge="x" * 43)
    for lookup, row, related in (
        (lookups.refresh_token, child, ("client", "user")),
        (lookups.refresh_token, parent, ("client", "user")),
        (lookups.refresh_token_for_grant, child, ("user",)),
        (lookups.code_for_grant, code, ("user",)),
    ):
        expected = type(row).objects.select_related(*related).get(pk=row.pk)
        assert_same(lookup.get(row.digest), expected, related)


def test_client_matches_the_orm():
    client = factories.ClientFactory(allowed_scopes="read write", may_introspect=True)
    assert_same(lookups.client.get(client.client_id), Client.objects.get(pk=client.pk), ())
    Client.objects.filter(pk=client.pk).update(is_active=False)
    assert lookups.client.get(client.client_id).is_active is False  # judged by the caller


@pytest.mark.parametrize(
    "value",
    ["", "nope", "' OR '1'='1", "%", "_", "%s", "%%s %(x)s", "\\", "?", "a" * 500],
)
def test_unknown_and_hostile_values_find_nothing(value):
    factories.AccessTokenFactory()
    factories.ClientFactory()
    with CaptureQueriesContext(connection) as context:
        assert lookups.access_token.get(value) is None
        assert lookups.client.get(value) is None
    assert len(context.captured_queries) == 2  # one query each, the value a parameter


def test_every_shipped_lookup_runs_its_own_sql():
    """None of the hot paths falls back to the ORM on the databases the suite runs."""
    for lookup in lookups.SHIPPED:
        assert lookup.compiles(), lookup.model


def test_one_query_no_sort_and_no_limit_needed():
    """Client has a Meta.ordering; a lookup by a unique column must not pay for it."""
    token = factories.AccessTokenFactory()
    with CaptureQueriesContext(connection) as context:
        lookups.access_token.get(token.digest)
        lookups.client.get(token.client.client_id)
    assert len(context.captured_queries) == 2
    assert all("ORDER BY" not in q["sql"] for q in context.captured_queries)


def test_a_fresh_instance_every_time():
    token = factories.AccessTokenFactory()
    first, second = (lookups.access_token.get(token.digest) for _ in range(2))
    assert first is not second and first.client is not second.client
    first.scope = "changed"
    assert lookups.access_token.get(token.digest).scope == "read"


def test_a_model_it_cannot_read_faithfully_falls_back_to_the_orm_and_says_so(caplog):
    """Multi-table inheritance keeps fields in another table: the ORM reads it, once
    warned about."""
    from django.contrib.auth.models import User
    from django.db.models import Model as DjangoModel

    token = factories.AccessTokenFactory()
    lookup = lookups.RowLookup(AccessToken, "digest", ("client", "user"))
    with mock.patch.object(User._meta, "parents", {DjangoModel: None}):
        with caplog.at_level("WARNING", logger="oauthflow.store.lookups"):
            assert lookup.compiles() is False
            assert_same(
                lookup.get(token.digest),
                AccessToken.objects.select_related("client", "user").get(pk=token.pk),
                ("client", "user"),
            )
            assert lookup.get("unknown") is None
    assert caplog.text.count("through the ORM") == 1


def test_a_column_that_is_not_unique_is_refused():
    lookup = lookups.RowLookup(AccessToken, "scope")
    assert lookup.compiles() is False


def test_changed_settings_rebuild():
    lookup = lookups.RowLookup(Client, "client_id")
    plan = lookup._plan("default")
    assert lookup._plan("default") is plan
    with override_settings(INSTALLED_APPS=["django.contrib.auth", "oauthflow"]):
        assert lookup._plan("default") is not plan


def test_expired_and_revoked_rows_are_returned_as_they_are():
    """The lookups only fetch; judging a row is the validity rule's (store.validity)."""
    past = timezone.now() - timedelta(days=1)
    token = factories.AccessTokenFactory(expires_at=past, revoked_at=past)
    found = lookups.access_token.get(token.digest)
    assert found.expires_at == past and found.revoked_at == past


def test_codes_keep_their_pkce_fields():
    code = factories.AuthorizationCodeFactory(code_challenge="c" * 43, scope="read")
    found = lookups.code_for_grant.get(code.digest)
    assert isinstance(found, AuthorizationCode)
    assert (found.code_challenge, found.code_challenge_method) == ("c" * 43, "S256")


def test_refresh_token_rotated_from_is_an_id_not_a_query():
    parent = factories.RefreshTokenFactory()
    child = factories.RefreshTokenFactory(
        client=parent.client, user=parent.user, family=parent.family, rotated_from=parent
    )
    found = lookups.refresh_token_for_grant.get(child.digest)
    assert isinstance(found, RefreshToken)
    assert found.rotated_from_id == parent.pk


def test_each_thread_builds_its_own_plan():
    """The backend's converters are bound to a thread's connection."""
    import threading

    plans = []
    lookup = lookups.RowLookup(Client, "client_id")
    thread = threading.Thread(target=lambda: plans.append(lookup._plan("default")))
    thread.start()
    thread.join()
    assert plans[0] is not None and plans[0] is not lookup._plan("default")


def test_a_foreign_key_to_a_custom_primary_key_is_converted_like_the_orm():
    """The column of a foreign key takes its target's converters (a UUID stored as text
    on SQLite comes back a UUID)."""
    from tests.testapp.models import Owner, Pet

    pet = Pet.objects.create(name="rex", owner=Owner.objects.create())
    lonely = Pet.objects.create(name="stray")
    lookup = lookups.RowLookup(Pet, "name", ("owner",))
    assert lookup.compiles()
    assert_same(lookup.get("rex"), Pet.objects.select_related("owner").get(pk=pet.pk), ("owner",))
    assert isinstance(lookup.get("rex").owner_id, type(pet.owner_id))
    assert_same(
        lookup.get("stray"), Pet.objects.select_related("owner").get(pk=lonely.pk), ("owner",)
    )
