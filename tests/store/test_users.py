"""A password change revokes everything issued for the user (REVOKE_TOKENS_ON_PASSWORD_CHANGE)."""

from __future__ import annotations

import pytest

from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(user):
    return [
        factories.AccessTokenFactory(user=user),
        factories.RefreshTokenFactory(user=user),
        factories.AuthorizationCodeFactory(user=user),
    ]


def revoked(rows) -> list[bool]:
    for row in rows:
        row.refresh_from_db()
    return [row.revoked_at is not None for row in rows]


def test_a_password_change_revokes_the_users_tokens(user, issued, revocations, committed):
    other = factories.AccessTokenFactory()
    with committed():
        user.set_password("a brand new passphrase")
        user.save()
    assert revoked(issued) == [True, True, True]
    assert revoked([other]) == [False]
    assert [(kw["by"], kw["user"]) for kw in revocations] == [("password-change", user)]


def test_saving_only_the_password_field_counts_too(user, issued):
    user.set_password("a brand new passphrase")
    user.save(update_fields=["password"])
    assert revoked(issued) == [True, True, True]


def test_a_save_without_a_new_password_revokes_nothing(user, issued):
    user.first_name = "Alice"
    user.save()
    assert revoked(issued) == [False, False, False]


def test_signing_in_costs_no_query(user, issued, django_assert_num_queries):
    with django_assert_num_queries(1):  # the UPDATE of last_login only
        user.save(update_fields=["last_login"])


def test_the_setting_turns_it_off(user, issued, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REVOKE_TOKENS_ON_PASSWORD_CHANGE": False}
    user.set_password("a brand new passphrase")
    user.save()
    assert revoked(issued) == [False, False, False]


def test_a_new_user_is_not_looked_up(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        factories.UserFactory.build(username="new").save()
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.exists() and not AuthorizationCode.objects.exists()


def test_a_hash_upgrade_at_sign_in_is_not_a_password_change(user, issued, settings):
    """Django re-hashes at sign-in when the preferred hasher changed: same password."""
    from django.contrib.auth import authenticate

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    old_hash = type(user).objects.get(pk=user.pk).password
    assert old_hash.startswith("md5$")
    assert authenticate(username="alice", password="correct horse battery staple") == user
    assert type(user).objects.get(pk=user.pk).password.startswith("pbkdf2_")
    assert revoked(issued) == [False, False, False]
