"""manage.py demo_setup: the demo's user and client, on whatever port the demo runs."""

from __future__ import annotations

import json
import os

from django.core.management import call_command

from oauthflow.models import Client


def _setup(settings, tmp_path, port: int) -> dict:
    settings.DEMO_CLIENT = {
        "PROVIDER_URL": f"http://127.0.0.1:{port}",
        "REDIRECT_URI": f"http://127.0.0.1:{port}/demo/callback",
        "CREDENTIALS_FILE": tmp_path / "demo-client.json",
    }
    # The example app is not installed in the test settings: call its command directly.
    from example.management.commands.demo_setup import Command

    with open(os.devnull, "w") as devnull:
        call_command(Command(), stdout=devnull)
    return json.loads((tmp_path / "demo-client.json").read_text())


def test_the_demo_client_follows_the_port(db, settings, tmp_path):
    first = _setup(settings, tmp_path, 8000)
    moved = _setup(settings, tmp_path, 8500)
    client = Client.objects.get(name="Demo Client")
    assert client.redirect_uri_list == ["http://127.0.0.1:8500/demo/callback"]
    assert client.homepage_url == "http://127.0.0.1:8500/demo/"
    assert moved == first  # same client, same secret: nothing stale left behind
    assert client.check_client_secret(moved["client_secret"])
    assert Client.objects.filter(name="Demo Client").count() == 1


def test_the_device_cli_has_a_public_client_for_the_device_flow(db, settings, tmp_path):
    _setup(settings, tmp_path, 8000)
    _setup(settings, tmp_path, 8000)  # idempotent

    client = Client.objects.get(client_id="demo-device-cli")
    assert not client.is_confidential and not client.has_secret
    assert client.grant_type_list == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
    ]
    assert client.redirect_uri_list == []
    assert Client.objects.count() == 2


def test_the_demo_user_has_a_name(db, settings, tmp_path):
    from django.contrib.auth import get_user_model

    _setup(settings, tmp_path, 8000)
    assert get_user_model().objects.get(username="demo").get_full_name() == "Demo User"
