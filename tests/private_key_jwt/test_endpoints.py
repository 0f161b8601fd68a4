"""private_key_jwt beyond client_credentials: the code grant, the other endpoints that
authenticate clients, the metadata, a jwks_uri, the checks and the cleanup."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from oauthflow.models import AccessToken, RefreshToken
from oauthflow.private_key_jwt import keys
from oauthflow.private_key_jwt.models import UsedAssertion
from oauthflow.server.registry import registry
from tests import factories
from tests.oauth_helpers import TOKEN, get_code, new_verifier, post_form

from .helpers import ISSUER, ClientKey, form, key_client


@pytest.fixture(autouse=True)
def _forget_fetched_keys():
    keys.forget()
    yield
    keys.forget()


@pytest.fixture
def key():
    return ClientKey()


@pytest.fixture
def web(db, key):
    return key_client(
        key,
        grant_types="authorization_code refresh_token",
        redirect_uris="https://client.example.com/callback",
        may_introspect=True,
    )


def authenticated(http, url, client, key, data, **claims):
    return post_form(
        http, url, {**data, **form(client.client_id, key.assertion(client.client_id, **claims))}
    )


def redeem_a_code(http, browser, web, key):
    """A code the signed-in ``browser`` obtains for ``web``, redeemed with an assertion."""
    verifier = new_verifier()
    code = get_code(browser, web, verifier=verifier)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": web.redirect_uri_list[0],
        "code_verifier": verifier,
    }
    return authenticated(http, TOKEN, web, key, data)


def test_code_refresh_revoke_introspect(client, signed_in, web, key):
    response = redeem_a_code(client, signed_in, web, key)
    assert response.status_code == 200, response.content
    tokens = response.json()
    refreshed = authenticated(
        client,
        TOKEN,
        web,
        key,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.content
    access = refreshed.json()["access_token"]
    seen = authenticated(client, "/oauth/introspect/", web, key, {"token": access}, aud=ISSUER)
    assert seen.status_code == 200 and seen.json()["active"] is True
    gone = authenticated(client, "/oauth/revoke/", web, key, {"token": access})
    assert gone.status_code == 200
    assert AccessToken.objects.filter(revoked_at__isnull=False).exists()
    # An assertion for the revocation endpoint is one for this server too: used once.
    assert UsedAssertion.objects.count() == 4


@pytest.mark.parametrize(
    ("url", "aud"),
    [
        ("/oauth/revoke/", ISSUER + "/oauth/introspect/"),
        # Only the PAR endpoint's own URL is an audience beside the issuer and token
        # endpoint (RFC 9126 §2); revocation's and introspection's are not.
        ("/oauth/revoke/", ISSUER + "/oauth/revoke/"),
        ("/oauth/introspect/", ISSUER + "/oauth/introspect/"),
    ],
)
def test_other_endpoints_urls_are_not_audiences(client, web, key, url, aud):
    response = authenticated(client, url, web, key, {"token": "x"}, aud=aud)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_pushed_request_with_an_assertion(client, web, key):
    from oauthflow.par.models import PushedRequest

    data = {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": web.redirect_uri_list[0],
        "scope": "read",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    response = authenticated(client, "/oauth/par/", web, key, data, aud=ISSUER + "/oauth/par/")
    assert response.status_code == 201, response.content
    assert PushedRequest.objects.count() == 1


def test_the_metadata_lists_the_method_and_its_algorithms(client, settings):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        body = client.get(path).json()
        assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
        assert body["token_endpoint_auth_signing_alg_values_supported"] == [
            "ES256",
            "ES384",
            "PS256",
            "RS256",
        ]
        for name in ("revocation", "introspection"):
            assert "private_key_jwt" in body[f"{name}_endpoint_auth_methods_supported"]
            assert body[f"{name}_endpoint_auth_signing_alg_values_supported"]
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_SIGNING_ALGS": ["ES256", "HS256"]}
    body = client.get("/.well-known/oauth-authorization-server").json()
    # Only what is verified is advertised.
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["ES256"]


def test_without_the_app_nothing_is_advertised(client):
    from oauthflow.private_key_jwt import method, register

    registry.unregister_client_auth_method("private_key_jwt")
    contributors = registry._metadata
    registry._metadata = [c for c in contributors if c is not register.metadata]
    try:
        body = client.get("/.well-known/oauth-authorization-server").json()
        assert "private_key_jwt" not in body["token_endpoint_auth_methods_supported"]
        assert "token_endpoint_auth_signing_alg_values_supported" not in body
    finally:
        registry._metadata = contributors
        registry.register_client_auth_method(
            "private_key_jwt", method.authenticate, client_errors=method.client_errors
        )


class _JWKSServer:
    """A client's JWKS at http://127.0.0.1:<port>/jwks, counting fetches."""

    def __init__(self, body: dict) -> None:
        self.body = body
        self.fetches = 0
        #: A URL to redirect to instead of answering; seconds between bytes sent.
        self.redirect_to: str | None = None
        self.drip = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                data = json.dumps(server.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=600")
                self.end_headers()
                if not server.drip:
                    self.wfile.write(data)
                    return
                try:
                    for i in range(0, len(data), 8):
                        self.wfile.write(data[i : i + 8])
                        self.wfile.flush()
                        time.sleep(server.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the provider gave up, as it should

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server(key):
    server = _JWKSServer({"keys": [key.public_jwk()]})
    yield server
    server.close()


def cc(http, machine, signer, secure=False, **claims):
    return post_form(
        http,
        TOKEN,
        {
            "grant_type": "client_credentials",
            "scope": "read",
            **form(machine.client_id, signer.assertion(machine.client_id, **claims)),
        },
        secure=secure,
    )


def test_a_public_client_row_never_authenticates_with_keys(client, db, key):
    # Even written past clean(): a public client authenticates with none, only.
    from oauthflow.models import Client

    machine = key_client(key)
    Client.objects.filter(pk=machine.pk).update(client_type=Client.PUBLIC)
    assert cc(client, machine, key).status_code == 401
    machine.refresh_from_db()
    assert machine.auth_methods == ("none",)


def test_keys_from_a_jwks_uri_are_fetched_and_kept(client, db, key, jwks_server):
    machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
    assert cc(client, machine, key).status_code == 200
    assert cc(client, machine, key).status_code == 200
    assert jwks_server.fetches == 1


def test_a_new_kid_fetches_again_but_not_every_time(client, db, key, jwks_server, monkeypatch):
    from oauthflow.formats import keysource

    machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
    assert cc(client, machine, key).status_code == 200
    rotated = ClientKey(kid="k2")
    jwks_server.body = {"keys": [key.public_jwk(), rotated.public_jwk()]}
    # Within a minute of the last fetch, an unknown kid does not fetch again.
    assert cc(client, machine, rotated).status_code == 401
    assert jwks_server.fetches == 1
    monkeypatch.setattr(keysource, "REFETCH_INTERVAL", 0)
    assert cc(client, machine, rotated).status_code == 200
    assert jwks_server.fetches == 2


def test_a_jwks_uri_with_a_private_key_is_refused(client, db, key, jwks_server):
    jwks_server.body = {"keys": [key.key.as_dict(private=True) | {"kid": "k1"}]}
    machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
    assert cc(client, machine, key).status_code == 401


def test_a_redirect_is_not_followed(client, db, key, jwks_server):
    target = _JWKSServer({"keys": [key.public_jwk()]})
    try:
        jwks_server.redirect_to = target.url
        machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
        assert cc(client, machine, key).status_code == 401
        assert target.fetches == 0
    finally:
        target.close()


def test_a_private_address_is_never_fetched(client, db, key, jwks_server, settings):
    # Loopback passes only with ALLOW_INSECURE_TRANSPORT (tests, development).
    machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    assert cc(client, machine, key, secure=True).status_code == 401
    assert jwks_server.fetches == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/jwks",
        "https://169.254.169.254/latest",
        "https://[::1]/jwks",
        "https://localhost/j",
    ],
)
def test_what_is_not_public(url, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    assert not keys.public_host(url)


def test_a_large_or_slow_jwks_is_refused(client, db, key, jwks_server, monkeypatch):
    from oauthflow.formats import keysource

    jwks_server.body = {"keys": [key.public_jwk()], "padding": "x" * 30_000}
    machine = key_client(key, jwks="", jwks_uri=jwks_server.url)
    assert cc(client, machine, key).status_code == 401
    keys.forget()
    jwks_server.body = {"keys": [key.public_jwk()]}
    jwks_server.drip = 0.2
    monkeypatch.setattr(keysource, "FETCH_DEADLINE", 0.5)
    started = time.monotonic()
    assert cc(client, machine, key).status_code == 401
    assert time.monotonic() - started < 3


def test_an_unreachable_jwks_uri_refuses(client, db, key):
    machine = key_client(key, jwks="", jwks_uri="http://127.0.0.1:9/jwks")
    response = cc(client, machine, key)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_no_fetch_for_a_client_that_does_not_use_keys(client, db, key, jwks_server):
    secret_client = factories.ClientFactory(
        grant_types="client_credentials", jwks_uri=jwks_server.url
    )
    assert cc(client, secret_client, key).status_code == 401
    assert jwks_server.fetches == 0


def test_cleartokens_clears_expired_assertions(db, key, client):
    machine = key_client(key)
    assert cc(client, machine, key).status_code == 200
    UsedAssertion.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("oauthflow_cleartokens", verbosity=0)
    assert not UsedAssertion.objects.exists()


@pytest.mark.parametrize(
    ("caches", "expected"),
    [
        ({"pkj": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}, "oauthflow.W010"),
        ({"pkj": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}, "oauthflow.E015"),
        ({}, "oauthflow.E015"),
    ],
)
def test_the_replay_cache_must_be_shared_and_real(settings, caches, expected):
    from django.core import checks

    settings.CACHES = {**settings.CACHES, **caches}
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_REPLAY_CACHE": "pkj"}
    found = [m for m in checks.run_checks() if "CLIENT_ASSERTION_REPLAY_CACHE" in m.msg]
    assert [m.id for m in found] == [expected]


def test_refresh_needs_the_same_authentication(client, signed_in, web, key):
    tokens = redeem_a_code(client, signed_in, web, key).json()
    stranger = ClientKey()
    response = authenticated(
        client,
        TOKEN,
        web,
        stranger,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert response.status_code == 401
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "algorithms", [["HS256"], ["none", "ES256"], [], ["ES256", "EdDSA"]], ids=str
)
def test_the_algorithm_list_names_only_what_is_verified(settings, algorithms):
    from django.core import checks

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_SIGNING_ALGS": algorithms}
    assert "oauthflow.E017" in [m.id for m in checks.run_checks()]


def test_the_default_algorithms_pass_the_checks():
    from django.core import checks

    assert "oauthflow.E017" not in [m.id for m in checks.run_checks()]


def test_a_device_authorization_with_an_assertion(client, db, key):
    from oauthflow.device.models import DeviceAuthorization

    tv = key_client(key, grant_types="urn:ietf:params:oauth:grant-type:device_code")
    response = authenticated(client, "/oauth/device-authorization/", tv, key, {"scope": "read"})
    assert response.status_code == 200, response.content
    assert DeviceAuthorization.objects.filter(client=tv).count() == 1
    # A jti is used once: the second assertion with it is refused, nothing written.
    again = post_form(
        client,
        "/oauth/device-authorization/",
        {"scope": "read", **form(tv.client_id, key.assertion(tv.client_id, jti="d1"))},
    )
    assert again.status_code == 200
    replay = post_form(
        client,
        "/oauth/device-authorization/",
        {"scope": "read", **form(tv.client_id, key.assertion(tv.client_id, jti="d1"))},
    )
    assert replay.status_code == 401
    assert DeviceAuthorization.objects.filter(client=tv).count() == 2
