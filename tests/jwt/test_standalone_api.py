"""An API on another host verifies the provider's JWT access tokens alone.

The provider is pytest-django's live server. The API is another process
(``tests/jwt/standalone``): a Django project without oauthflow in INSTALLED_APPS and
with no database, protecting a plain view with ``require_oauth`` and a DRF view with
``OAuth2Authentication`` and ``TokenHasScope``. It knows the provider by its ``ISSUER``
alone and fetches its keys over HTTP (``oauthflow.formats.keysource.RemoteKeys``).

What the API fetches is counted on the provider's side (the live server runs in this
process, so ``request_started`` sees each request). The API's key source runs on a clock
the test moves forward (``harness.advance_clock``), so its cache and refetch interval
are the real ones and waiting them out takes no time.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.core.signals import request_started
from django.utils import timezone
from joserfc import jws
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from oauthflow import keys
from oauthflow.adapter import get_adapter
from oauthflow.formats import keysource
from oauthflow.models import Resource
from tests import factories
from tests.oauth_helpers import exchange, get_code, new_verifier

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
API = "https://api.example.com/"
OTHER_API = "https://other.example.com/"
PATHS = ["/plain/read/", "/api/read/"]
JWKS = "/oauth/jwks/"
METADATA = "/.well-known/oauth-authorization-server"
#: The provider's JWKS says max-age=600.
JWKS_MAX_AGE = 600


class StandaloneAPI:
    """The API process: started on a port of its own choosing, stopped at the end."""

    def __init__(self, log_path: Path, **env: str) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("STANDALONE_")}
        environment.update(env)
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.jwt.standalone.serve"],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,  # closed, it stops (see serve)
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("listening on "):
            self.stop()
            pytest.fail(f"The standalone API did not start:\n{self.log()}")
        self.url = f"http://127.0.0.1:{int(line.split()[-1])}"

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=15)

    def state(self) -> dict:
        return requests.get(self.url + "/_harness/state/", timeout=5).json()

    def reset(self) -> None:
        requests.post(self.url + "/_harness/reset/", timeout=5).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        requests.post(self.url + "/_harness/advance-clock/", json={"seconds": seconds}, timeout=5)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def assert_stayed_standalone(self) -> None:
        """No oauthflow model was imported, not even tried, and no database touched."""
        state = self.state()
        assert "oauthflow.models" not in state["oauthflow_modules"]
        for provider_only in ("oauthflow.models", "oauthflow.store.lookups", "oauthflow.keys"):
            assert provider_only not in state["import_attempts"], self.log()
        assert state["database_attempts"] == [], self.log()
        assert state["key_source"] == "RemoteKeys"

    def stop(self) -> None:
        self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self._log.close()


@pytest.fixture
def start_api(live_server, tmp_path):
    """``start_api(**env)``: an API process of the test's own; ``ISSUER`` is the live
    server's URL unless ``STANDALONE_ISSUER`` says otherwise."""
    started: list[StandaloneAPI] = []

    def start(**env: str) -> StandaloneAPI:
        env.setdefault("STANDALONE_ISSUER", live_server.url)
        api = StandaloneAPI(tmp_path / f"api-{len(started)}.log", **env)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture(scope="module")
def shared_api(live_server, tmp_path_factory):
    """One API process for the tests that need no settings of their own (a process
    takes a while to start)."""
    api = StandaloneAPI(
        tmp_path_factory.mktemp("standalone") / "api.log", STANDALONE_ISSUER=live_server.url
    )
    yield api
    api.stop()


@pytest.fixture
def api(shared_api):
    """The shared API, holding no keys yet: each test's provider has keys of its own."""
    shared_api.reset()
    return shared_api


@pytest.fixture
def provider_hits():
    """Paths of the requests the live provider receives during the test."""
    hits: list[str] = []

    def receiver(sender, environ, **kwargs):
        hits.append(environ["PATH_INFO"])

    request_started.connect(receiver, weak=False)
    yield hits
    request_started.disconnect(receiver)


def key_fetches(hits: list[str]) -> tuple[int, int]:
    """(metadata fetches, JWKS fetches)."""
    return hits.count(METADATA), hits.count(JWKS)


@pytest.fixture
def machine(transactional_db):
    """A client_credentials client allowed the JWT resource ``API`` (and ``OTHER_API``)."""
    client = factories.ClientFactory(grant_types="client_credentials")
    for identifier in (API, OTHER_API):
        client.resources.add(
            Resource.objects.create(identifier=identifier, name=identifier, token_format="jwt")
        )
    return client


def get_token(live_server, client, resource: str | None = API, scope: str = "read") -> str:
    data = {"grant_type": "client_credentials", "scope": scope}
    if resource:
        data["resource"] = resource
    response = requests.post(
        live_server.url + "/oauth/token/",
        data=data,
        auth=(client.client_id, client.secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _unsigned(token: str, signature: str) -> str:
    """``token`` with the header ``alg: none`` (kid and typ kept) and ``signature``."""
    header = {**jws.extract_compact(token.encode()).protected, "alg": "none"}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}.{token.split('.')[1]}.{signature}"


def kid_of(token: str) -> str:
    return jws.extract_compact(token.encode()).protected["kid"]


def test_the_harness_sees_a_database_attempt(start_api):
    """What makes ``assert_stayed_standalone`` mean something: a query is refused (there
    is no database) and recorded."""
    api = start_api()
    assert api.state()["database_attempts"] == []
    assert (
        "settings.DATABASES is improperly configured"
        in api.get("/_harness/query/").json()["refused"]
    )
    assert api.state()["database_attempts"] == ["cursor"]


# The API accepts the provider's tokens and refuses the others ----------------------------


def test_a_jwt_for_this_api_is_accepted_with_no_database(live_server, machine, api):
    token = get_token(live_server, machine)
    for path in PATHS:
        response = api.get(path, token)
        assert response.status_code == 200, api.log()
        assert response.json() == {
            "sub": machine.client_id,  # RFC 9068 §2.2: the client is its own subject
            "client_id": machine.client_id,
            "aud": API,
            "scopes": ["read"],
            "client_credentials": True,
            "user": None,
            "user_class": "AnonymousUser",
            "client": machine.client_id,
            "client_class": "TokenClient",  # no client table here: the claim alone
        }
    api.assert_stayed_standalone()


def test_a_user_token_names_a_token_user(live_server, machine, api, client):
    """A token from the authorization code flow: the API's user is a TokenUser, the
    subject alone (the provider's user table is not here)."""
    app = factories.ClientFactory()
    app.resources.add(Resource.objects.get(identifier=API))
    user = factories.UserFactory(username="alice")
    client.force_login(user)
    # The provider's issuer follows the Host: the live server's, as the API expects.
    client.defaults["HTTP_HOST"] = live_server.url.split("://", 1)[1]
    verifier = new_verifier()
    code = get_code(client, app, verifier=verifier, resource=API)
    token = exchange(client, app, code, verifier).json()["access_token"]

    subject = get_adapter().get_subject(user)
    for path in PATHS:
        response = api.get(path, token)
        assert response.status_code == 200, api.log()
        body = response.json()
        assert body["sub"] == body["user"] == subject
        assert body["user_class"] == "TokenUser"
        assert body["client_credentials"] is False
        assert body["client"] == app.client_id
    api.assert_stayed_standalone()


def test_no_token_is_a_401_with_the_bearer_challenge(api):
    for path in PATHS:
        response = api.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_for_another_audience_is_refused(live_server, machine, api):
    token = get_token(live_server, machine, resource=OTHER_API)
    for path in PATHS:
        response = api.get(path, token)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    api.assert_stayed_standalone()


def test_a_token_without_the_scope_is_forbidden(live_server, machine, api):
    token = get_token(live_server, machine, scope="profile")
    for path in PATHS:
        response = api.get(path, token)
        assert response.status_code == 403
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_forged_tokens_are_refused(live_server, machine, api, provider_hits):
    """Signed by another key under the provider's kid or under a kid the provider never
    published, unsigned (alg none), or stripped of its signature: each a 401, and none
    makes the API fetch the keys again."""
    genuine = get_token(live_server, machine)
    assert api.get("/api/read/", genuine).status_code == 200
    fetched = key_fetches(provider_hits)
    claims = jose_jwt.decode(genuine, keys.verification_key(kid_of(genuine))).claims
    attacker = RSAKey.generate_key(2048)
    header = {"alg": "RS256", "typ": "at+jwt"}
    forged = [
        jose_jwt.encode({**header, "kid": kid_of(genuine)}, claims, attacker),
        jose_jwt.encode({**header, "kid": "made-up"}, claims, attacker),
        _unsigned(genuine, signature="AAAA"),
        ".".join(genuine.split(".")[:2]) + ".",
    ]
    for value in forged:
        for path in PATHS:
            response = api.get(path, value)
            assert response.status_code == 401, response.text
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert key_fetches(provider_hits) == fetched  # the made-up kid waits REFETCH_INTERVAL
    api.assert_stayed_standalone()


def test_an_opaque_token_is_a_401_where_only_jwts_can_be_checked(live_server, machine, start_api):
    """The API has no table to look an opaque token up in: it can only refuse it."""
    api = start_api()  # its own: today the attempt to import oauthflow.models is recorded
    opaque = get_token(live_server, machine, resource=None)
    assert opaque.startswith("ofat_")
    for path in PATHS:
        response = api.get(path, opaque)
        assert response.status_code == 401, f"{response.status_code}\n{api.log()}"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    api.assert_stayed_standalone()


def test_without_resource_setting_no_jwt_is_accepted(live_server, machine, start_api):
    """``RESOURCE`` unset: the API has not said which audience is its own."""
    api = start_api(STANDALONE_RESOURCE="")
    token = get_token(live_server, machine)
    for path in PATHS:
        response = api.get(path, token)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revocation_reaches_the_api_through_the_shared_token_cache(
    live_server, machine, start_api, settings
):
    """With a TOKEN_CACHE shared with the provider, a revoked token is refused at once
    (the API cannot read the provider's row: a stale marker is enough)."""
    tokens_cache = settings.CACHES["tokens"]
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}  # the provider's
    api = start_api(
        STANDALONE_TOKEN_CACHE=f"{tokens_cache['LOCATION']} {tokens_cache['KEY_PREFIX']}"
    )
    token, other = get_token(live_server, machine), get_token(live_server, machine)
    for value in (token, other):
        assert api.get("/api/read/", value).status_code == 200

    response = requests.post(
        live_server.url + "/oauth/revoke/",
        data={"token": token},
        auth=(machine.client_id, machine.secret),
        timeout=10,
    )
    assert response.status_code == 200
    for path in PATHS:
        refused = api.get(path, token)
        assert refused.status_code == 401
        assert "revoked" in refused.headers["WWW-Authenticate"]
        assert api.get(path, other).status_code == 200
    api.assert_stayed_standalone()


# Keys: fetched once, cached, refetched on rotation -----------------------------------------


def test_keys_are_fetched_once_for_many_requests(live_server, machine, api, provider_hits):
    tokens = [get_token(live_server, machine) for _ in range(3)]
    assert key_fetches(provider_hits) == (0, 0)  # nothing before the first request
    for _ in range(10):
        for token in tokens:
            for path in PATHS:
                assert api.get(path, token).status_code == 200
    # 60 requests: the metadata (for its jwks_uri) once, the JWKS once.
    assert key_fetches(provider_hits) == (1, 1)

    # Kept as long as the JWKS's Cache-Control max-age says, then fetched again.
    api.advance_clock(JWKS_MAX_AGE - 60)
    assert api.get(PATHS[0], tokens[0]).status_code == 200
    assert key_fetches(provider_hits) == (1, 1)
    api.advance_clock(60)
    assert api.get(PATHS[0], tokens[0]).status_code == 200
    assert key_fetches(provider_hits) == (2, 2)
    api.assert_stayed_standalone()


def test_a_jwks_uri_setting_skips_the_metadata(live_server, machine, start_api, provider_hits):
    api = start_api(STANDALONE_JWKS_URI=live_server.url + JWKS)
    token = get_token(live_server, machine)
    for path in PATHS * 5:
        assert api.get(path, token).status_code == 200
    assert key_fetches(provider_hits) == (0, 1)
    api.assert_stayed_standalone()


def test_a_rotated_key_is_fetched_when_a_token_names_it(live_server, machine, api, provider_hits):
    old = get_token(live_server, machine)
    assert api.get("/api/read/", old).status_code == 200
    assert key_fetches(provider_hits) == (1, 1)

    # The provider rotates: a new key that signs at once (no publication delay).
    keys.create_key("RS256", signs_from=timezone.now())
    new = get_token(live_server, machine)
    assert kid_of(new) != kid_of(old)

    # Within REFETCH_INTERVAL of the last fetch, an unknown kid fetches nothing: refused.
    response = api.get("/api/read/", new)
    assert response.status_code == 401
    assert key_fetches(provider_hits) == (1, 1)

    # Once the interval has passed, the unknown kid makes it fetch the keys again, once.
    api.advance_clock(keysource.REFETCH_INTERVAL)
    for path in PATHS:
        assert api.get(path, new).status_code == 200, api.log()
        assert api.get(path, old).status_code == 200  # the old key is still published
    assert key_fetches(provider_hits) == (2, 2)
    api.assert_stayed_standalone()


# The provider unreachable ---------------------------------------------------------------


@pytest.fixture
def unreachable_provider():
    """A provider that answers 503 to everything; ``.hits`` lists the paths asked for."""
    hits: list[str] = []

    class Failing(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.hits = hits
    yield server
    server.shutdown()
    server.server_close()


def test_an_unreachable_provider_is_not_asked_on_every_request(
    live_server, machine, start_api, unreachable_provider
):
    api = start_api(STANDALONE_ISSUER=unreachable_provider.url)
    token = get_token(live_server, machine)
    for path in PATHS * 3:
        assert api.get(path, token).status_code == 401
    assert unreachable_provider.hits == [METADATA]  # once, not once per request

    api.advance_clock(keysource.RETRY_AFTER_FAILURE)
    assert api.get(PATHS[0], token).status_code == 401
    assert unreachable_provider.hits == [METADATA, METADATA]
    api.assert_stayed_standalone()
