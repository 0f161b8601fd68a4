"""Access token validation: one indexed query, and every reason to refuse."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from oauthflow import tokens
from oauthflow.models import AccessToken
from oauthflow.resource import validation
from oauthflow.store.validity import Refusal
from tests import factories


def test_valid_token_comes_back_with_client_and_user_in_one_query(
    access_token, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = validation.validate(access_token.value)
        # Loaded by the same query: touching them costs nothing more.
        assert found.client.name == "Photo Printer"
        assert found.user.username == "alice"
    assert found == access_token


def test_unknown_token_is_refused(db):
    assert validation.validate(tokens.generate(tokens.ACCESS_TOKEN_PREFIX)) is Refusal.UNKNOWN


def test_refresh_token_value_is_not_an_access_token(db):
    refresh = factories.RefreshTokenFactory()
    assert validation.validate(refresh.value) is Refusal.UNKNOWN


def test_expired_token_is_refused(db):
    token = factories.AccessTokenFactory(expires_at=timezone.now() - timedelta(seconds=1))
    assert validation.validate(token.value) is Refusal.EXPIRED


def test_token_expires_when_time_moves_past_it(access_token):
    later = access_token.expires_at + timedelta(microseconds=1)
    assert validation.validate(access_token.value) == access_token
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert validation.validate(access_token.value) is Refusal.EXPIRED


def test_revoked_token_is_refused(access_token):
    AccessToken.objects.filter(pk=access_token.pk).revoke()
    assert validation.validate(access_token.value) is Refusal.REVOKED


def test_token_of_inactive_client_is_refused(access_token):
    access_token.client.is_active = False
    access_token.client.save()
    assert validation.validate(access_token.value) is Refusal.CLIENT_INACTIVE


def test_token_of_inactive_user_is_refused(access_token):
    access_token.user.is_active = False
    access_token.user.save()
    assert validation.validate(access_token.value) is Refusal.USER_INACTIVE


def test_client_credentials_token_has_no_user(db):
    token = factories.AccessTokenFactory(user=None)
    found = validation.validate(token.value)
    assert found == token
    assert found.user is None
    assert found.is_client_credentials


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 10_000,
        "ofat_" + "a" * 124,  # one past MAX_LENGTH
        "ofat_abc def",
        "ofat_abcé",
        "abcdefgh=ijk",  # padding only at the end (RFC 6750 b64token)
        "ofat_abc,def",
        "short",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",  # a JWT is never an opaque token
        "ofat_\x00",
        "\ud800",
    ],
)
def test_implausible_values_are_refused_without_a_query(db, value, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert validation.validate(value) is Refusal.MALFORMED


def test_token_scopes_and_expiry_are_exposed(db):
    token = factories.AccessTokenFactory(scope="read profile")
    found = validation.validate(token.value)
    assert found.scopes == frozenset({"read", "profile"})
    assert found.has_scopes(["read"])
    assert found.has_scopes([])
    assert not found.has_scopes(["read", "write"])
    assert found.expires_at == token.expires_at


def test_rejections_never_log_the_token(access_token, caplog):
    AccessToken.objects.filter(pk=access_token.pk).revoke()
    with caplog.at_level("DEBUG", logger="oauthflow"):
        validation.validate(access_token.value)
        validation.validate(tokens.generate(tokens.ACCESS_TOKEN_PREFIX))
    assert access_token.value not in caplog.text
    assert access_token.hint in caplog.text


@pytest.mark.postgres
def test_lookup_is_an_index_scan_on_the_digest(postgres_only, access_token):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AccessToken.objects.bulk_create(
        AccessToken(
            digest=tokens.digest(value := tokens.generate("ofat")),
            hint=tokens.hint(value),
            client=access_token.client,
            user=access_token.user,
            expires_at=access_token.expires_at,
        )
        for _ in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE oauthflow_accesstoken")
    with CaptureQueriesContext(connection) as ctx:
        validation.validate(access_token.value)
    (query,) = ctx.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using oauthflow_accesstoken_digest" in plan, plan
    assert "Seq Scan on oauthflow_accesstoken" not in plan, plan
