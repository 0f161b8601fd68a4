"""The one validity rule: each reason, their order, and the clean-up filter that must
agree with it."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from oauthflow.store.validity import Refusal, dead, refusal, state, user_is_active
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.now()
PAST, FUTURE = NOW - timedelta(hours=1), NOW + timedelta(hours=1)


def test_a_live_token_may_be_used():
    assert refusal(factories.AccessTokenFactory(), NOW) is None


def test_each_reason_for_an_access_token():
    assert refusal(factories.AccessTokenFactory(revoked_at=PAST), NOW) is Refusal.REVOKED
    assert refusal(factories.AccessTokenFactory(expires_at=NOW), NOW) is Refusal.EXPIRED
    token = factories.AccessTokenFactory()
    token.client.is_active = False
    assert refusal(token, NOW) is Refusal.CLIENT_INACTIVE
    token = factories.AccessTokenFactory()
    token.user.is_active = False
    assert refusal(token, NOW) is Refusal.USER_INACTIVE


def test_revoked_comes_first():
    token = factories.AccessTokenFactory(revoked_at=PAST, expires_at=PAST)
    token.client.is_active = False
    assert refusal(token, NOW) is Refusal.REVOKED


def test_a_used_code_is_reuse_evidence_only_while_it_lives():
    assert state(factories.AuthorizationCodeFactory(redeemed_at=PAST), NOW) is Refusal.USED
    old = factories.AuthorizationCodeFactory(redeemed_at=PAST, expires_at=PAST)
    assert state(old, NOW) is Refusal.EXPIRED


def test_a_rotated_refresh_token_is_reuse_evidence_until_its_family_ends():
    idle_expired = factories.RefreshTokenFactory(rotated_at=PAST, expires_at=PAST)
    assert state(idle_expired, NOW) is Refusal.USED
    family_over = factories.RefreshTokenFactory(
        rotated_at=PAST, expires_at=PAST, family_expires_at=PAST
    )
    assert state(family_over, NOW) is Refusal.EXPIRED


def test_a_token_without_a_user_has_no_user_to_check():
    token = factories.AccessTokenFactory(user=None)
    assert refusal(token, NOW) is None


def test_users_without_is_active_are_active():
    class Plain:
        pass

    assert user_is_active(Plain()) is True


@pytest.mark.parametrize("model", [AccessToken, AuthorizationCode, RefreshToken])
def test_clean_up_never_deletes_what_the_rule_accepts_or_needs_as_evidence(model):
    """Every combination of revoked, used, expired and evidence window: a row clean-up
    would delete is one the rule refuses, and never one that still proves reuse."""
    factory = {
        AccessToken: factories.AccessTokenFactory,
        AuthorizationCode: factories.AuthorizationCodeFactory,
        RefreshToken: factories.RefreshTokenFactory,
    }[model]
    used_field = model.USED_FIELD
    rows = []
    for revoked, used, expires, evidence in itertools.product(
        (None, PAST), (None, PAST), (PAST, FUTURE), (PAST, FUTURE)
    ):
        if used and not used_field:
            continue
        fields = {"revoked_at": revoked, "expires_at": expires}
        if used_field:
            fields[used_field] = used
        if model is RefreshToken:
            fields["family_expires_at"] = max(evidence, expires)
        rows.append(factory(**fields))
    doomed = set(model.objects.filter(dead(model, NOW)).values_list("pk", flat=True))
    assert doomed and len(doomed) < len(rows)
    for row in rows:
        if row.pk in doomed:
            assert state(row, NOW) is not None, row
            assert state(row, NOW) is not Refusal.USED, row
        elif state(row, NOW) is None:
            assert row.pk not in doomed


@pytest.mark.parametrize("value", [False, 0, None])
def test_any_false_is_active_is_inactive(value):
    class CustomUser:
        is_active = value

    assert user_is_active(CustomUser()) is False
