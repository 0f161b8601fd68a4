"""Create the demo user and the demo client, then print how to use them.

Idempotent: run it before every `runserver`. The client's secret is shown once by
oauthflow and kept here in example_project/.demo-client.json (git-ignored, mode 0600)
so the demo client app can use it; a real site never writes a secret to disk like this.
"""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from oauthflow.models import Client

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_CLIENT_NAME = "Demo Client"
#: The public client of example_project/device_cli.py (a client_id is no secret).
DEVICE_CLIENT_ID = "demo-device-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Command(BaseCommand):
    help = "Create the demo user and OAuth client of the example site."

    def handle(self, *args, **options):
        # Read now, not at import: `make demo PORT=8500` sets them through the environment.
        redirect_uri = settings.DEMO_CLIENT["REDIRECT_URI"]
        site_url = "{0.scheme}://{0.netloc}".format(urlsplit(redirect_uri))
        demo_url = site_url + "/demo/"
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"email": "demo@example.com", "first_name": "Demo", "last_name": "User"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        admin, created = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password("admin-password")
            admin.save()

        client = Client.objects.filter(name=DEMO_CLIENT_NAME).first()
        stored = self._read_credentials()
        if client is None:
            client = Client(
                name=DEMO_CLIENT_NAME,
                grant_types="authorization_code refresh_token",
                default_scopes="read",
            )
        client.allowed_scopes = "openid profile email read write"
        # The demo client authenticates with its secret, whatever was changed in the admin.
        client.client_type = Client.CONFIDENTIAL
        client.token_endpoint_auth_method = ""
        # The site may run on another port than last time: the client follows it.
        client.redirect_uris = redirect_uri
        client.post_logout_redirect_uris = settings.DEMO_CLIENT.get(
            "SIGNED_OUT_URI", site_url + "/demo/signed-out"
        )
        client.homepage_url = demo_url
        if client.pk is None or stored.get("client_id") != client.client_id:
            secret = client.set_secret()
            self._write_credentials({"client_id": client.client_id, "client_secret": secret})
        client.full_clean()
        client.save()
        self._device_client()

        self.stdout.write(
            "\nDemo ready. Open this page and press Connect:\n\n"
            f"    {demo_url}\n\n"
            f"  Sign in as:      {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
            f"  Admin:           {site_url}/admin/  (admin / admin-password)\n"
            f"  Demo client id:  {client.client_id}\n"
            f"  Redirect URI:    {redirect_uri}\n"
            f"  Device sign-in:  .venv/bin/python example_project/device_cli.py --site {site_url}\n"
        )

    def _device_client(self) -> None:
        """The command-line client of the device flow: public, no redirect URI."""
        client = Client.objects.filter(client_id=DEVICE_CLIENT_ID).first() or Client(
            client_id=DEVICE_CLIENT_ID, client_type=Client.PUBLIC
        )
        client.name = "Demo Device CLI"
        client.grant_types = f"{DEVICE_GRANT} refresh_token"
        client.allowed_scopes = "openid profile email read"
        client.default_scopes = "read"
        client.redirect_uris = ""
        client.full_clean()
        client.save()

    def _read_credentials(self) -> dict:
        try:
            return json.loads(_credentials_file().read_text())
        except (OSError, ValueError):
            return {}

    def _write_credentials(self, data: dict) -> None:
        fd = os.open(_credentials_file(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)


def _credentials_file() -> Path:
    # The demo client app (democlient) reads the credentials back from the same file.
    return Path(settings.DEMO_CLIENT["CREDENTIALS_FILE"])
