"""django-oauth-toolkit issuing real tokens through its own endpoints (mounted at /dot/ in
tests/urls.py), so the import tests start from rows DOT wrote itself."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.core.management import call_command
from django.test import Client as HttpClient
from oauth2_provider.models import get_application_model

from tests.oauth_helpers import new_verifier

REDIRECT_URI = "https://client.example.com/callback"
DotApplication = get_application_model()


@dataclass
class DotApp:
    """A DOT application and the clear secret it was given (DOT keeps only a hash)."""

    row: Any
    secret: str

    @property
    def client_id(self) -> str:
        return self.row.client_id


class Dot:
    """DOT's authorization and token endpoints, as a signed-in user and a client use them."""

    def __init__(self, browser: HttpClient):
        self.browser = browser
        self.http = HttpClient()

    def application(self, name: str, *, secret: str = "", **fields: Any) -> DotApp:
        fields.setdefault("client_type", "confidential")
        fields.setdefault("authorization_grant_type", "authorization-code")
        fields.setdefault("redirect_uris", REDIRECT_URI)
        secret = secret or f"dot-secret-of-{name.lower().replace(' ', '-')}-0123456789"
        row = DotApplication.objects.create(name=name, client_secret=secret, **fields)
        return DotApp(row, secret)

    def authorize(self, app: DotApp, *, verifier: str, scope: str = "read") -> str:
        """The user allows the app at DOT's authorization endpoint; returns the code."""
        fields = {
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": scope,
            "state": "s",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        page = self.browser.get("/dot/authorize/?" + urlencode(fields), secure=True)
        assert page.status_code == 200, page.content
        response = self.browser.post(
            "/dot/authorize/", {**fields, "allow": "Authorize"}, secure=True
        )
        assert response.status_code == 302, response.content
        return parse_qs(urlsplit(response["Location"]).query)["code"][0]

    def token(self, app: DotApp, **data: str) -> dict[str, Any]:
        """A request to DOT's token endpoint, the client authenticated with HTTP Basic."""
        headers = {}
        if app.row.client_type == "confidential":
            basic = base64.b64encode(f"{app.client_id}:{app.secret}".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {basic}"
        else:
            data = {**data, "client_id": app.client_id}
        response = self.http.post("/dot/token/", data, secure=True, **headers)
        assert response.status_code == 200, response.content
        return response.json()

    def sign_in(self, app: DotApp, *, scope: str = "read") -> tuple[dict[str, Any], str]:
        """The authorization code flow with PKCE, through DOT: its tokens, and the verifier."""
        verifier = new_verifier()
        code = self.authorize(app, verifier=verifier, scope=scope)
        tokens = self.token(
            app,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT_URI,
            code_verifier=verifier,
        )
        return tokens, verifier


@pytest.fixture
def dot(signed_in) -> Dot:
    return Dot(signed_in)


def import_dot(*args: str) -> str:
    """Run oauthflow_import_dot; its report."""
    out = io.StringIO()
    call_command("oauthflow_import_dot", *args, stdout=out)
    return out.getvalue()
