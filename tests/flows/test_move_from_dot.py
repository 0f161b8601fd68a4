"""A client moves from django-oauth-toolkit to oauthflow over HTTP, driven by
requests-oauthlib: signed in through DOT's endpoints before the import, it refreshes at
oauthflow's afterwards with the same client_id, secret and refresh token, and the user is
not asked to consent again."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from oauth2_provider.models import get_application_model
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from oauthflow.models import Client
from tests.oauth_helpers import query_of

pytestmark = pytest.mark.live

REDIRECT_URI = "https://printer.example.com/callback"
SECRET = "a-secret-the-printer-was-given-by-dot-0123456789"


def test_a_client_moves_from_dot_without_signing_anyone_out(live_server, browser, monkeypatch):
    # oauthlib refuses http outright; the live server is loopback-only plain http.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    app = get_application_model().objects.create(
        name="Photo printer",
        client_secret=SECRET,  # DOT stores a hash of it
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris=REDIRECT_URI,
        skip_authorization=True,  # DOT answers at once, without its consent form
    )
    auth = HTTPBasicAuth(app.client_id, SECRET)

    # Before: the user signs in to the printer through DOT.
    oauth = OAuth2Session(app.client_id, redirect_uri=REDIRECT_URI, scope=["read"], pkce="S256")
    url, _ = oauth.authorization_url(live_server.url + "/dot/authorize/")
    location = browser.http.get(url, allow_redirects=False).headers["Location"]
    dot_token = oauth.fetch_token(
        live_server.url + "/dot/token/", authorization_response=location, auth=auth
    )

    call_command("oauthflow_import_dot", "--commit", verbosity=0)

    # After: DOT's access token works on the API oauthflow protects...
    api = oauth.get(live_server.url + "/api/read/")
    assert api.status_code == 200, api.text
    assert api.json()["client_id"] == app.client_id
    # ...and DOT's refresh token gets oauthflow tokens, with the same secret.
    refreshed = oauth.refresh_token(
        live_server.url + "/oauth/token/", refresh_token=dot_token["refresh_token"], auth=auth
    )
    assert refreshed["access_token"].startswith("ofat_")
    assert oauth.get(live_server.url + "/api/read/").json()["user"] == "alice"
    # The next sign-in, at oauthflow, asks nothing: the user allowed the printer in DOT.
    again = OAuth2Session(app.client_id, redirect_uri=REDIRECT_URI, scope=["read"], pkce="S256")
    url, state = again.authorization_url(live_server.url + "/oauth/authorize/")
    location = browser.http.get(url, allow_redirects=False).headers["Location"]
    assert query_of(location)["state"] == state
    token = again.fetch_token(
        live_server.url + "/oauth/token/", authorization_response=location, auth=auth
    )
    assert token["scope"] == ["read"]
    assert Client.objects.get(client_id=app.client_id).legacy_secret_hash == ""
