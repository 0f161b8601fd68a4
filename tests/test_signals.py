"""oauthflow's signals: sent once the work commits, never for work rolled back, and a
failing receiver never changes the answer."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from oauthflow.models import AccessToken
from oauthflow.signals import token_issued, token_revoked
from oauthflow.store.revocation import revoke_family
from tests import factories
from tests.oauth_helpers import exchange, get_code, new_verifier


@pytest.mark.django_db(transaction=True)
def test_a_signal_waits_for_the_outer_transaction_to_commit(record):
    token = factories.AccessTokenFactory()
    sent = record(token_revoked)
    with transaction.atomic():
        revoke_family(token.family, by="admin")
        assert sent == []  # revoked, but not committed yet
    assert [kw["family"] for kw in sent] == [token.family]


@pytest.mark.django_db(transaction=True)
def test_no_signal_for_work_that_is_rolled_back(record):
    token = factories.AccessTokenFactory()
    sent = record(token_revoked)
    with pytest.raises(RuntimeError), transaction.atomic():
        revoke_family(token.family, by="admin")
        raise RuntimeError("the caller's transaction fails")
    token.refresh_from_db()
    assert token.revoked_at is None
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_without_a_transaction_the_signal_is_sent_at_once(record):
    token = factories.AccessTokenFactory()
    sent = record(token_revoked)
    revoke_family(token.family, by="admin")
    assert len(sent) == 1


def test_failing_signal_receiver_does_not_turn_success_into_500(
    signed_in, client_app, caplog, committed
):
    def boom(**kwargs):
        raise RuntimeError("receiver bug")

    token_issued.connect(boom, weak=False, dispatch_uid="boom")
    try:
        verifier = new_verifier()
        code = get_code(signed_in, client_app, verifier=verifier)
        with caplog.at_level(logging.ERROR, logger="oauthflow.signals"), committed():
            response = exchange(signed_in, client_app, code, verifier)
    finally:
        token_issued.disconnect(dispatch_uid="boom")
    assert response.status_code == 200
    assert AccessToken.objects.count() == 1
    assert "receiver" in caplog.text
    assert response.json()["access_token"] not in caplog.text
