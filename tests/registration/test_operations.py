"""Dynamic registration in operations: the system checks, clean-up, the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import checks
from django.urls import reverse
from django.utils import timezone

from oauthflow.checks import check_settings
from oauthflow.models import Client
from oauthflow.registration.guard import new_initial_access_token
from oauthflow.registration.models import InitialAccessToken
from oauthflow.store.cleanup import clear_tokens
from tests import factories
from tests.registration.conftest import NATIVE_APP, register

# Checks ------------------------------------------------------------------------------------


def ids(settings, **values) -> list[str]:
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, **values}
    return [m.id for m in check_settings() if "REGISTRATION" in m.msg]


def test_off_or_with_tokens_is_quiet(settings):
    assert ids(settings, DYNAMIC_REGISTRATION=False) == []
    assert ids(settings, DYNAMIC_REGISTRATION="initial_access_token") == []


def test_open_registration_is_a_warning(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": "open"}
    [message] = [m for m in check_settings() if m.id == "oauthflow.W013"]
    assert message.level == checks.WARNING and "'open'" in message.msg


@pytest.mark.parametrize("value", [True, "on", "Open", ""])
def test_an_unknown_mode_is_an_error(settings, value):
    assert ids(settings, DYNAMIC_REGISTRATION=value) == ["oauthflow.E016"]


def test_a_wrong_type_is_reported_once(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": 1}
    found = [m.id for m in check_settings() if "DYNAMIC_REGISTRATION" in m.msg]
    assert found == ["oauthflow.E003"]


def test_on_without_the_app_is_an_error(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "oauthflow.registration"]
    assert ids(settings, DYNAMIC_REGISTRATION="initial_access_token") == ["oauthflow.E016"]


def test_registration_scopes_must_be_known(settings):
    assert ids(settings, REGISTRATION_SCOPES=["read", "admin"]) == ["oauthflow.E016"]
    assert ids(settings, REGISTRATION_SCOPES=["read"]) == []


# Clean-up ------------------------------------------------------------------------------------


def test_cleartokens_deletes_dead_initial_access_tokens_and_keeps_the_record(client, db, mode):
    mode("initial_access_token")
    ago = timezone.now() - timedelta(seconds=1)
    live, _ = new_initial_access_token()
    new_initial_access_token(expires_at=ago)
    revoked, _ = new_initial_access_token()
    InitialAccessToken.objects.filter(pk=revoked.pk).update(revoked=True)
    used, value = new_initial_access_token(uses=1)
    body = register(client, NATIVE_APP, value)

    assert clear_tokens(dry_run=True)["initial_access_tokens"] == 3
    assert clear_tokens()["initial_access_tokens"] == 3
    assert list(InitialAccessToken.objects.all()) == [live]
    registration = Client.objects.get(client_id=body["client_id"]).dynamic_registration
    assert registration.initial_access_token is None
    assert registration.initial_access_token_hint == used.hint


# Admin ----------------------------------------------------------------------------------------


def test_registered_clients_are_marked_in_the_list(admin_client, client, initial_token):
    body = register(client, NATIVE_APP, initial_token)
    staff_made = factories.ClientFactory(name="Staff made")
    url = reverse("admin:oauthflow_client_changelist")

    listing = admin_client.get(url)
    assert listing.status_code == 200
    assert "dynamically registered" in listing.content.decode().lower()
    dynamic = admin_client.get(url + "?registered=dynamically").content.decode()
    assert body["client_id"] in dynamic and staff_made.client_id not in dynamic
    by_staff = admin_client.get(url + "?registered=staff").content.decode()
    assert body["client_id"] not in by_staff and staff_made.client_id in by_staff


def test_a_registered_clients_page_shows_its_registration(admin_client, client, initial_token):
    body = register(client, {**NATIVE_APP, "software_id": "sw-1"}, initial_token)
    registered = Client.objects.get(client_id=body["client_id"])
    page = admin_client.get(reverse("admin:oauthflow_client_change", args=[registered.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert registered.dynamic_registration.access_token_hint in text
    assert "sw-1" in text
    assert body["registration_access_token"] not in text
    assert body["registration_access_token"][5:-4] not in text
    staff_made = factories.ClientFactory()
    page = admin_client.get(reverse("admin:oauthflow_client_change", args=[staff_made.pk]))
    assert page.status_code == 200 and "registration access token" not in page.content.decode()
    # Saving the registered client in the admin still works (the inline is read-only).
    add = admin_client.get(reverse("admin:oauthflow_client_add"))
    assert add.status_code == 200


def test_initial_access_tokens_are_listed_by_hint_and_revocable(admin_client, db):
    row, value = new_initial_access_token(note="partner")
    url = reverse("admin:oauthflow_registration_initialaccesstoken_changelist")
    text = admin_client.get(url).content.decode()
    assert row.hint in text and "partner" in text
    assert value not in text and row.digest not in text
    page = admin_client.get(
        reverse("admin:oauthflow_registration_initialaccesstoken_change", args=[row.pk])
    )
    assert page.status_code == 200 and value not in page.content.decode()
    assert (
        admin_client.get(reverse("admin:oauthflow_registration_initialaccesstoken_add")).status_code
        == 403
    )
    response = admin_client.post(
        url, {"action": "revoke_selected", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.revoked
