"""Running the device flow: the admin, clean-up, registering clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from oauthflow.device.models import DeviceAuthorization, UserCodeFailures
from oauthflow.models import Client
from oauthflow.store.cleanup import clear_tokens
from oauthflow.store.revocation import revoke_client
from tests import factories
from tests.command_line import keep_test_connection, run_command_json  # noqa: F401 (an autouse fixture)

from .helpers import approve, codes, enter, poll

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:oauthflow_device_deviceauthorization_changelist"


def test_the_admin_lists_requests_without_secrets(admin_client, client, tv):
    device = codes(client, tv)

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    row = DeviceAuthorization.objects.get()
    assert row.hint in page and "Living-room TV" in page
    assert device["device_code"] not in page
    assert device["user_code"] not in page and device["user_code"].replace("-", "") not in page
    assert row.digest not in page and row.user_code_digest not in page
    detail = admin_client.get(
        reverse("admin:oauthflow_device_deviceauthorization_change", args=[row.pk])
    ).content.decode()
    assert detail.count(row.hint) >= 1
    assert device["device_code"] not in detail and row.user_code_digest not in detail


def test_the_waiting_filter_shows_only_answerable_requests(admin_client, client, tv, signed_in):
    rows = []
    for _ in range(3):
        device = codes(client, tv)
        rows.append(DeviceAuthorization.objects.latest("pk"))
    approve(signed_in, device["user_code"])  # the last one is decided
    waiting, old, decided = rows
    DeviceAuthorization.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    page = admin_client.get(reverse(CHANGELIST), {"decision": "waiting"}).content.decode()

    assert waiting.hint in page
    assert old.hint not in page and decided.hint not in page


def test_an_admin_denies_a_waiting_request_and_the_device_hears_it(admin_client, client, tv):
    device = codes(client, tv)
    row = DeviceAuthorization.objects.get()

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "deny_selected", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == DeviceAuthorization.DENIED
    assert poll(client, tv, device["device_code"]).json()["error"] == "access_denied"


def test_denying_needs_the_change_permission(client, tv):
    codes(client, tv)
    staff = factories.UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_deviceauthorization"))
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(staff)
    row = DeviceAuthorization.objects.get()

    page = browser.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "deny_selected" not in page.content.decode()
    browser.post(reverse(CHANGELIST), {"action": "deny_selected", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == DeviceAuthorization.PENDING


def test_nobody_adds_or_edits_rows_by_hand(admin_client, client, tv):
    codes(client, tv)
    row = DeviceAuthorization.objects.get()

    assert (
        admin_client.get(reverse("admin:oauthflow_device_deviceauthorization_add")).status_code
        == 403
    )
    url = reverse("admin:oauthflow_device_deviceauthorization_change", args=[row.pk])
    admin_client.post(url, {"status": DeviceAuthorization.APPROVED})
    row.refresh_from_db()
    assert row.status == DeviceAuthorization.PENDING


def test_cleartokens_purges_expired_requests_and_old_counts(client, tv, signed_in):
    live = codes(client, tv)
    kept = DeviceAuthorization.objects.get()
    codes(client, tv)
    DeviceAuthorization.objects.exclude(pk=kept.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    enter(signed_in, "BBBBBBBB")  # a wrong code: two counts
    UserCodeFailures.objects.update(window_ends_at=timezone.now() - timedelta(seconds=1))

    counts = clear_tokens()

    assert counts["device_authorizations"] == 1
    assert counts["wrong_user_codes"] == 2
    assert list(DeviceAuthorization.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not UserCodeFailures.objects.exists()
    assert poll(client, tv, live["device_code"]).json()["error"] == "authorization_pending"


def test_cleartokens_keeps_an_exchanged_request_until_it_expires(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"])
    assert poll(client, tv, device["device_code"]).status_code == 200

    assert clear_tokens()["device_authorizations"] == 0
    DeviceAuthorization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert clear_tokens()["device_authorizations"] == 1


def test_cleartokens_command_reports_the_device_tables(capsys):
    out = run_command_json(capsys, "oauthflow_cleartokens", "--dry-run")

    assert out["device_authorizations"] == 0 and out["wrong_user_codes"] == 0


def test_revoking_a_clients_tokens_stops_its_waiting_requests(client, tv, signed_in):
    waiting = codes(client, tv)

    revoke_client(tv, by="admin")

    assert poll(client, tv, waiting["device_code"]).json()["error"] == "invalid_grant"
    assert enter(signed_in, waiting["user_code"]).status_code == 400


def test_oauthflow_client_registers_a_public_device_client(capsys):
    data = run_command_json(
        capsys,
        "oauthflow_client",
        "create",
        "--name",
        "CLI",
        "--public",
        "--grant-type",
        "urn:ietf:params:oauth:grant-type:device_code",
        "--grant-type",
        "refresh_token",
    )

    created = Client.objects.get(client_id=data["client_id"])
    assert not created.is_confidential
    assert created.grant_type_list == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
    ]
    assert created.redirect_uri_list == []


def test_the_admin_offers_the_grant(admin_client):
    page = admin_client.get(reverse("admin:oauthflow_client_add")).content.decode()

    assert 'value="urn:ietf:params:oauth:grant-type:device_code"' in page


def test_revoking_a_request_in_the_admin_stops_the_device(admin_client, client, tv, signed_in):
    waiting = codes(client, tv)
    approved = codes(client, tv)
    approve(signed_in, approved["user_code"])
    pks = list(DeviceAuthorization.objects.values_list("pk", flat=True))

    admin_client.post(reverse(CHANGELIST), {"action": "revoke_selected", "_selected_action": pks})

    assert poll(client, tv, approved["device_code"]).json()["error"] == "invalid_grant"
    assert poll(client, tv, waiting["device_code"]).json()["error"] == "invalid_grant"
    assert enter(signed_in, waiting["user_code"]).status_code == 400


def test_a_pairwise_device_client_needs_a_sector(db):
    from django.core.exceptions import ValidationError

    device_client = factories.PublicClientFactory.build(
        grant_types="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
        subject_type="pairwise",
    )
    with pytest.raises(ValidationError) as error:
        device_client.full_clean()
    assert "sector_identifier_uri" in error.value.message_dict

    device_client.sector_identifier_uri = "https://tv.example.com/sector.json"
    device_client.full_clean()
