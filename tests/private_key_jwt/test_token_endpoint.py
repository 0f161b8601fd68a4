"""private_key_jwt at the token endpoint: what authenticates, and every refusal."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from oauthflow.models import AccessToken, Client
from oauthflow.private_key_jwt import assertion as assertion_module
from oauthflow.private_key_jwt.models import UsedAssertion
from tests import factories
from tests.oauth_helpers import TOKEN, basic, post_form

from .helpers import ISSUER, ClientKey, form, key_client

CC = {"grant_type": "client_credentials", "scope": "read"}


@pytest.fixture
def key():
    return ClientKey()


@pytest.fixture
def machine(db, key):
    return key_client(key)


def ask(http, data, **headers):
    return post_form(http, TOKEN, {**CC, **data}, **headers)


def refused(response):
    assert response.status_code in (400, 401), response.content
    body = response.json()
    assert body["error"] == "invalid_client", body
    # The same sentence whatever failed: a prober learns nothing.
    assert "assertion" not in body.get("error_description", "")
    return body


def test_a_signed_assertion_authenticates_the_client(client, machine, key):
    response = ask(client, form(machine.client_id, key.assertion(machine.client_id)))
    assert response.status_code == 200, response.content
    token = AccessToken.objects.get()
    assert token.client == machine
    assert UsedAssertion.objects.count() == 1


@pytest.mark.parametrize("alg", ["ES256", "ES384", "PS256", "RS256"])
def test_every_allowed_algorithm(client, db, alg):
    key = ClientKey("ES384" if alg == "ES384" else alg)
    key.alg = alg
    machine = key_client(key)
    response = ask(client, form(machine.client_id, key.assertion(machine.client_id)))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("aud", [ISSUER, ISSUER + "/oauth/token/", [ISSUER]])
def test_aud_may_be_the_issuer_or_the_token_endpoint(client, machine, key, aud):
    response = ask(client, form(machine.client_id, key.assertion(machine.client_id, aud=aud)))
    assert response.status_code == 200, response.content


def test_client_id_may_be_sent_and_must_match(client, machine, key):
    ok = ask(
        client,
        form(machine.client_id, key.assertion(machine.client_id), client_id=machine.client_id),
    )
    assert ok.status_code == 200
    other = factories.ClientFactory()
    refused(
        ask(
            client,
            form(machine.client_id, key.assertion(machine.client_id), client_id=other.client_id),
        )
    )


def test_an_assertion_is_used_once(client, machine, key):
    value = key.assertion(machine.client_id)
    assert ask(client, form(machine.client_id, value)).status_code == 200
    refused(ask(client, form(machine.client_id, value)))
    assert AccessToken.objects.count() == 1


def test_a_refused_assertion_does_not_burn_its_jti(client, machine, key):
    refused(
        ask(
            client,
            form(
                machine.client_id,
                key.assertion(machine.client_id, jti="j1", aud="https://x.example"),
            ),
        )
    )
    response = ask(client, form(machine.client_id, key.assertion(machine.client_id, jti="j1")))
    assert response.status_code == 200


def test_the_same_jti_from_two_clients_is_two_assertions(client, db):
    one, two = ClientKey(), ClientKey()
    first, second = key_client(one), key_client(two)
    assert (
        ask(client, form(first.client_id, one.assertion(first.client_id, jti="same"))).status_code
        == 200
    )
    assert (
        ask(client, form(second.client_id, two.assertion(second.client_id, jti="same"))).status_code
        == 200
    )


def now():
    return int(time.time())


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"aud": "https://other.example/token"}, id="aud-elsewhere"),
        pytest.param({"aud": ["https://other.example"]}, id="aud-list-elsewhere"),
        pytest.param({"aud": 7}, id="aud-number"),
        # Audience injection: a list naming another server too is refused.
        pytest.param({"aud": [ISSUER, "https://other.example"]}, id="aud-list-with-another"),
        pytest.param({"aud": ISSUER + "/"}, id="aud-issuer-slash"),
        pytest.param({"aud": ISSUER + "/oauth/par/"}, id="aud-par-at-token"),
        pytest.param({"exp": 10**400}, id="exp-huge-int"),
        pytest.param({"exp": 1e300}, id="exp-huge-float"),
        pytest.param({"iss": "\ud800", "sub": "\ud800"}, id="sub-surrogate"),
        pytest.param({"iss": "a\u0000b", "sub": "a\u0000b"}, id="sub-nul"),
        pytest.param({"iss": "é", "sub": "é"}, id="sub-non-ascii"),
        pytest.param({"iss": "x" * 101, "sub": "x" * 101}, id="sub-long"),
        pytest.param({"exp": -120}, id="expired"),
        pytest.param({"exp": 10_000}, id="exp-too-far"),
        pytest.param({"exp": "soon"}, id="exp-string"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"nbf": 600}, id="nbf-future"),
        pytest.param({"iat": 600}, id="iat-future"),
        pytest.param({"jti": ""}, id="jti-empty"),
        pytest.param({"jti": "x" * 300}, id="jti-long"),
        pytest.param({"jti": 5}, id="jti-number"),
        pytest.param({"iss": "someone-else"}, id="iss-other"),
        pytest.param({"sub": "someone-else"}, id="sub-other"),
    ],
)
def test_claims_that_are_refused(client, machine, key, change):
    claims = dict(change)
    for name in ("exp", "nbf", "iat"):
        if isinstance(claims.get(name), int) and not isinstance(claims[name], bool):
            claims[name] = now() + claims[name]
    refused(ask(client, form(machine.client_id, key.assertion(machine.client_id, **claims))))
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("claim", ["exp", "jti", "aud", "iss", "sub"])
def test_required_claims(client, machine, key, claim):
    refused(ask(client, form(machine.client_id, key.assertion(machine.client_id, drop=(claim,)))))


def test_non_finite_times_are_refused(client, machine, key):
    # JSON has no NaN; Python's json writes one anyway: a hostile client can too.
    value = key.assertion(machine.client_id)
    _, payload, _ = value.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["exp"] = float("nan")
    forged = jwt.encode({"alg": "ES256", "kid": "k1"}, claims, key.key)
    refused(ask(client, form(machine.client_id, forged)))


def test_another_key_is_refused(client, machine):
    stranger = ClientKey()
    refused(ask(client, form(machine.client_id, stranger.assertion(machine.client_id))))


def test_a_kid_the_client_lacks_is_refused(client, machine, key):
    refused(
        ask(client, form(machine.client_id, key.assertion(machine.client_id, header={"kid": "k2"})))
    )


def test_without_kid_every_registered_key_is_tried(client, db):
    old, new = ClientKey(kid=None), ClientKey(kid=None)
    machine = key_client(old, jwks=json.dumps({"keys": [old.public_jwk(), new.public_jwk()]}))
    assert ask(client, form(machine.client_id, new.assertion(machine.client_id))).status_code == 200


def test_hmac_with_the_public_key_is_refused(client, machine, key):
    # The classic confusion: HS256 keyed with the public key's bytes.
    secret = OctKey.import_key(json.dumps(key.public_jwk()).encode())
    value = jwt.encode(
        {"alg": "HS256", "kid": "k1"},
        {
            "iss": machine.client_id,
            "sub": machine.client_id,
            "aud": ISSUER,
            "exp": now() + 60,
            "jti": "h",
        },
        secret,
        algorithms=["HS256"],
    )
    refused(ask(client, form(machine.client_id, value)))


def test_alg_none_is_refused(client, machine):
    import base64

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "iss": machine.client_id,
        "sub": machine.client_id,
        "aud": ISSUER,
        "exp": now() + 60,
        "jti": "n",
    }
    value = f"{b64({'alg': 'none'})}.{b64(claims)}."
    refused(ask(client, form(machine.client_id, value)))
    refused(ask(client, form(machine.client_id, value + "x")))


@pytest.mark.parametrize("typ", ["dpop+jwt", "at+jwt", "JWS"])
def test_another_kind_of_jwt_is_refused(client, machine, key, typ):
    refused(
        ask(client, form(machine.client_id, key.assertion(machine.client_id, header={"typ": typ})))
    )


@pytest.mark.parametrize("typ", ["JWT", "client-authentication+jwt"])
def test_a_client_assertion_typ_is_accepted(client, machine, key, typ):
    response = ask(
        client, form(machine.client_id, key.assertion(machine.client_id, header={"typ": typ}))
    )
    assert response.status_code == 200


def test_the_jti_record_is_per_client_without_collisions():
    from oauthflow.private_key_jwt import replay

    seen = []
    original = replay.replay.claim
    try:
        replay.replay.claim = lambda unique, *a, **k: seen.append(unique) or True
        replay.claim("a", "b:c", 60)
        replay.claim("a:b", "c", 60)
    finally:
        replay.replay.claim = original
    assert seen[0] != seen[1]


def test_the_allow_list_is_the_setting(client, machine, key, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_SIGNING_ALGS": ["PS256"]}
    refused(ask(client, form(machine.client_id, key.assertion(machine.client_id))))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-jwt",
        "a.b.c",
        "a.b.c.d.e",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln",  # payload not JSON
        "eyJhbGciOiJFUzI1NiJ9.WzFd.c2ln",  # payload a list
    ],
)
def test_garbage_assertions_are_refused(client, machine, value):
    refused(ask(client, form(machine.client_id, value)))


@pytest.mark.parametrize("value", ["é.é.é", "x" * 9000])
def test_what_no_parameter_may_be_is_a_bad_request(client, machine, value):
    response = ask(client, form(machine.client_id, value))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_wrong_assertion_type_is_refused(client, machine, key):
    data = form(machine.client_id, key.assertion(machine.client_id))
    data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    refused(ask(client, data))
    del data["client_assertion_type"]
    refused(ask(client, data))


def test_repeated_parameters_are_refused(client, machine, key):
    from urllib.parse import urlencode

    value = key.assertion(machine.client_id)
    body = urlencode(
        [
            *CC.items(),
            ("client_assertion_type", assertion_module.JWT_BEARER),
            ("client_assertion", value),
            ("client_assertion", value),
        ]
    )
    response = client.post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_client")


def two_methods(response):
    # RFC 6749 §5.2: "utilizes more than one mechanism for authenticating the client".
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"


def test_two_methods_at_once_are_refused(client, db, key):
    # Even for a client that may use a secret, an assertion beside it is refused.
    secret_client = factories.ClientFactory(grant_types="client_credentials")
    data = form(secret_client.client_id, key.assertion(secret_client.client_id))
    two_methods(
        ask(client, data, HTTP_AUTHORIZATION=basic(secret_client.client_id, secret_client.secret))
    )
    machine = key_client(key)
    two_methods(
        ask(
            client,
            {**form(machine.client_id, key.assertion(machine.client_id)), "client_secret": "x"},
        )
    )
    two_methods(
        ask(
            client,
            {"client_id": secret_client.client_id, "client_secret": secret_client.secret},
            HTTP_AUTHORIZATION=basic(secret_client.client_id, secret_client.secret),
        )
    )
    assert not AccessToken.objects.exists()


def test_a_secret_client_cannot_use_an_assertion(client, db, key):
    secret_client = factories.ClientFactory(grant_types="client_credentials", jwks=key.jwks())
    refused(ask(client, form(secret_client.client_id, key.assertion(secret_client.client_id))))


def test_a_key_client_cannot_use_a_secret(client, machine):
    # It has none (save() clears any), and Basic is not its method.
    assert machine.secret_digest == ""
    refused(ask(client, {}, HTTP_AUTHORIZATION=basic(machine.client_id, "ofcs_anything")))
    refused(ask(client, {"client_id": machine.client_id}))


def test_an_inactive_or_unknown_client_is_refused(client, machine, key):
    refused(ask(client, form("nobody", key.assertion("nobody"))))
    Client.objects.filter(pk=machine.pk).update(is_active=False)
    refused(ask(client, form(machine.client_id, key.assertion(machine.client_id))))


def test_an_unreachable_replay_store_refuses(client, machine, key, settings):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {"BACKEND": "tests.private_key_jwt.test_token_endpoint.BrokenCache"},
    }
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_REPLAY_CACHE": "broken"}
    refused(ask(client, form(machine.client_id, key.assertion(machine.client_id))))
    assert not AccessToken.objects.exists()


def test_a_cache_store_remembers_in_the_cache(client, machine, key, settings):
    settings.CACHES = {
        **settings.CACHES,
        "replay": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pkj"},
    }
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLIENT_ASSERTION_REPLAY_CACHE": "replay"}
    value = key.assertion(machine.client_id)
    assert ask(client, form(machine.client_id, value)).status_code == 200
    refused(ask(client, form(machine.client_id, value)))
    assert not UsedAssertion.objects.exists()


from django.core.cache.backends.locmem import LocMemCache  # noqa: E402


class BrokenCache(LocMemCache):
    def __init__(self, *args, **kwargs):
        super().__init__("broken", {})

    def add(self, *args, **kwargs):
        raise ConnectionError("down")


def test_an_assertion_from_a_web_page_is_refused_before_its_jti_is_recorded(client, machine, key):
    # Confidential clients allow no web origin (oauthflow.cors): refused unread.
    value = key.assertion(machine.client_id)
    response = ask(client, form(machine.client_id, value), HTTP_ORIGIN="https://spa.example")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    assert not UsedAssertion.objects.exists()
    # The same assertion from the client's server (no Origin) still works.
    assert ask(client, form(machine.client_id, value)).status_code == 200
