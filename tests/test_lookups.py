"""oauthflow.lookups: the compiled hot-path lookups return exactly what the ORM returns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Model, QuerySet
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauthflow import lookups
from oauthflow.models import AccessToken, AuthorizationCode, Client, RefreshToken
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


def test_active_client_matches_the_orm_and_skips_inactive_clients():
    client = factories.ClientFactory(allowed_scopes="read write", may_introspect=True)
    assert_same(lookups.active_client.get(client.client_id), Client.objects.get(pk=client.pk), ())
    Client.objects.filter(pk=client.pk).update(is_active=False)
    assert lookups.active_client.get(client.client_id) is None


@pytest.mark.parametrize(
    "value",
    ["", "nope", "' OR '1'='1", "%", "_", "%s", "%%s %(x)s", "\\", *lookups._MARKERS, "a" * 500],
)
def test_unknown_and_hostile_values_find_nothing(value):
    factories.AccessTokenFactory()
    factories.ClientFactory()
    with CaptureQueriesContext(connection) as context:
        assert lookups.access_token.get(value) is None
        assert lookups.active_client.get(value) is None
    assert len(context.captured_queries) == 2  # one query each, the value a parameter


def test_one_query_and_the_same_sql_as_the_orm():
    token = factories.AccessTokenFactory()
    with CaptureQueriesContext(connection) as ours:
        lookups.access_token.get(token.digest)
    with CaptureQueriesContext(connection) as orm:
        AccessToken.objects.select_related("client", "user").filter(digest=token.digest).first()
    assert len(ours.captured_queries) == 1
    # The ORM's own SELECT (it adds only its ORDER BY/LIMIT for first()).
    assert orm.captured_queries[0]["sql"].startswith(ours.captured_queries[0]["sql"])


def test_a_fresh_instance_every_time():
    token = factories.AccessTokenFactory()
    first, second = (lookups.access_token.get(token.digest) for _ in range(2))
    assert first is not second and first.client is not second.client
    first.scope = "changed"
    assert lookups.access_token.get(token.digest).scope == "read"


def test_query_shapes_it_does_not_know_fall_back_to_the_orm():
    """A queryset using the value twice cannot be re-run by slot: the ORM answers."""
    token = factories.AccessTokenFactory()
    twice = lookups.Lookup(
        AccessToken, lambda v: AccessToken.objects.filter(digest=v).exclude(hint=v)
    )
    assert twice._plan("default") is None
    assert twice.get(token.digest).pk == token.pk
    assert twice.get("unknown") is None


def test_changed_settings_recompile():
    lookup = lookups.Lookup(Client, lambda v: Client.objects.filter(client_id=v))
    plan = lookup._plan("default")
    assert lookup._plan("default") is plan
    with override_settings(INSTALLED_APPS=["django.contrib.auth", "oauthflow"]):
        assert lookup._plan("default") is not plan


def test_expired_and_revoked_rows_are_returned_as_they_are():
    """The lookups only fetch; judging a row stays with the callers (bearer, grants)."""
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


def test_the_client_lookup_does_not_sort():
    """Client has a Meta.ordering; a lookup by a unique column must not pay for it."""
    client = factories.ClientFactory()
    with CaptureQueriesContext(connection) as context:
        assert lookups.active_client.get(client.client_id) == client
    assert "ORDER BY" not in context.captured_queries[0]["sql"]


def test_a_value_the_orm_would_prepare_is_never_re_run_raw():
    """A case-insensitive match escapes LIKE wildcards on some databases: such a query must
    answer exactly what the ORM answers, whether it is re-run or falls back."""
    client = factories.ClientFactory()
    by_iexact = lookups.Lookup(Client, lambda v: Client.objects.filter(client_id__iexact=v))
    for value in ("%", "_" * len(client.client_id), client.client_id.upper()):
        expected = Client.objects.filter(client_id__iexact=value).first()
        assert by_iexact.get(value) == expected


def test_parameters_that_change_between_calls_fall_back_to_the_orm():
    """A filter on the current time compiles to a new parameter every call: re-running the
    first one would keep accepting what has since expired."""
    live = lookups.Lookup(
        AccessToken,
        lambda v: AccessToken.objects.filter(digest=v, expires_at__gt=timezone.now()),
    )
    assert live._plan("default") is None
    soon = factories.AccessTokenFactory(expires_at=timezone.now() + timedelta(hours=1))
    gone = factories.AccessTokenFactory(expires_at=timezone.now() - timedelta(seconds=1))
    assert live.get(soon.digest) == soon
    assert live.get(gone.digest) is None


def test_each_lookup_keeps_its_own_plans():
    """Plans live on their Lookup: a new lookup can never be handed another's SQL."""
    token = factories.AccessTokenFactory()
    for _ in range(50):
        by_client_id = lookups.Lookup(Client, lambda v: Client.objects.filter(client_id=v))
        assert by_client_id.get(token.client.client_id) == token.client
        del by_client_id
        by_digest = lookups.Lookup(AccessToken, lambda v: AccessToken.objects.filter(digest=v))
        assert by_digest.get(token.client.client_id) is None
        assert by_digest.get(token.digest) == token


def test_a_builder_for_another_model_is_not_compiled():
    wrong = lookups.Lookup(AccessToken, lambda v: Client.objects.filter(client_id=v))
    assert wrong._plan("default") is None


@pytest.mark.skipif(not hasattr(QuerySet, "fetch_mode"), reason="fetch modes are Django 6.1+")
def test_fetch_modes_are_carried_like_the_orm():
    from django.db.models import FETCH_PEERS

    token = factories.AccessTokenFactory()

    def build(v):
        return (
            AccessToken.objects.select_related("client", "user")
            .fetch_mode(FETCH_PEERS)
            .filter(digest=v)
        )

    found = lookups.Lookup(AccessToken, build).get(token.digest)
    expected = build(token.digest).get()
    assert found._state.fetch_mode is expected._state.fetch_mode
    assert found.client._state.fetch_mode is expected.client._state.fetch_mode
