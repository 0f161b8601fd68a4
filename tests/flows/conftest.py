"""Fixtures for whole flows against Django's live server with real client libraries."""

from __future__ import annotations

import re

import pytest
import requests

from tests import factories

PASSWORD = "correct horse battery staple"


class Browser:
    """The user's browser: a cookie-keeping HTTP session that signs in and consents."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def sign_in(self, username: str) -> None:
        url = self.base_url + "/accounts/login/"
        page = self.http.get(url)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            url,
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text

    def consent(self, authorization_url: str, decision: str = "allow") -> str:
        """Open the authorization URL, press Allow or Deny; return the redirect Location."""
        page = self.http.get(authorization_url, allow_redirects=False)
        if page.status_code == 302:
            return page.headers["Location"]
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            authorization_url,
            data={"decision": decision, "csrfmiddlewaretoken": csrf},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]


@pytest.fixture
def browser(live_server, transactional_db):
    user = factories.UserFactory(username="alice")
    b = Browser(live_server.url)
    b.sign_in(user.username)
    b.user = user
    return b
