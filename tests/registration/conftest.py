"""Fixtures for dynamic client registration: the mode, an initial access token, and
requests to the two endpoints as a client sends them (JSON, a Bearer token), and a DNS
for the test names the server looks up."""

from __future__ import annotations

import json
import socket

import pytest

from oauthflow.registration.guard import new_initial_access_token

REGISTER = "/oauth/register/"


#: What the test DNS answers for names under ``.example`` (RFC 2606, never resolved for
#: real): these names, these addresses; None: no such name; any other: a public address.
DNS: dict[str, tuple[str, ...] | None] = {
    "internal.example": ("10.0.0.7",),
    "metadata.example": ("169.254.169.254",),
    "loopback.example": ("127.0.0.1",),
    "mixed.example": ("93.184.215.14", "192.168.1.20"),
    "v6.example": ("fd00::5",),
    "nowhere.example": None,
}
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def test_dns(monkeypatch):
    """Names under ``.example`` resolve as ``DNS`` says; every other name as usual (the
    live server of the flow tests is on 127.0.0.1)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not (isinstance(host, str) and host.lower().endswith(".example")):
            return real(host, port, *args, **kwargs)
        addresses = DNS.get(host.lower(), (PUBLIC_ADDRESS,))
        if addresses is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port or 0),
            )
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def mode(settings):
    """``mode(value)`` sets ``DYNAMIC_REGISTRATION`` (and any other keys given)."""

    def set_mode(value, **more):
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": value, **more}

    return set_mode


@pytest.fixture
def with_tokens(mode):
    mode("initial_access_token")


@pytest.fixture
def initial_token(db, with_tokens) -> str:
    """The value of a usable initial access token without limits."""
    return new_initial_access_token(note="tests")[1]


def bearer(token: str | None) -> dict:
    return {} if token is None else {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_json(http, document, token: str | None = None, url: str = REGISTER, **headers):
    body = document if isinstance(document, (bytes, str)) else json.dumps(document)
    return http.post(url, body, content_type="application/json", **bearer(token), **headers)


def put_json(http, url: str, document, token: str | None, **headers):
    body = document if isinstance(document, (bytes, str)) else json.dumps(document)
    return http.put(url, body, content_type="application/json", **bearer(token), **headers)


#: A web app's registration: confidential, Basic, the code grant.
WEB_APP = {
    "client_name": "Photo printer",
    "redirect_uris": ["https://printer.example/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "read",
}
#: A native app: public, loopback redirect URI (RFC 8252).
NATIVE_APP = {
    "client_name": "Desktop app",
    "redirect_uris": ["http://127.0.0.1/callback", "com.example.app:/oauth"],
    "token_endpoint_auth_method": "none",
}


def register(http, document=None, token: str | None = None) -> dict:
    """Register; it must succeed; the response body."""
    response = post_json(http, WEB_APP if document is None else document, token)
    assert response.status_code == 201, response.content
    return response.json()


def path_of(uri: str) -> str:
    return "/" + uri.split("://", 1)[1].split("/", 1)[1]
