"""What a security review of DPoP found, each pinned by a test."""

from __future__ import annotations

import pytest

from oauthflow.dpop import proof as proofs
from oauthflow.dpop.models import UsedProof
from oauthflow.models import AccessToken
from oauthflow.resource.validation import validate
from oauthflow.store.validity import Refusal
from tests import factories
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request

from .helpers import TOKEN_URL, DPoPKey

pytestmark = pytest.mark.django_db


def _cc(client, app, proof=None):
    headers = {} if proof is None else {"HTTP_DPOP": proof}
    data = {"grant_type": "client_credentials", "scope": "read"}
    return token_request(client, app, data, **headers)


def _raw_proof(key: DPoPKey, claims_json: str) -> str:
    """A proof whose claims are written by hand (JSON a library would not produce)."""
    from joserfc import jws

    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk}
    return jws.serialize_compact(header, claims_json.encode(), key.key, algorithms=["ES256"])


@pytest.mark.parametrize("iat", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_iat_is_refused_not_a_500(client, machine, key, iat):
    claims = f'{{"jti": "j{iat}", "htm": "POST", "htu": "{TOKEN_URL}", "iat": {iat}}}'

    response = _cc(client, machine, _raw_proof(key, claims))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"


def test_a_non_finite_iat_at_a_resource_is_refused_not_a_500(client, machine, key):
    token = _cc(client, machine, key.proof()).json()["access_token"]
    ath = proofs.ath(token)
    claims = (
        '{"jti": "x1", "htm": "GET", "htu": "http://testserver/api/read/", '
        f'"iat": NaN, "ath": "{ath}"}}'
    )

    response = client.get(
        "/api/read/", HTTP_AUTHORIZATION=f"DPoP {token}", HTTP_DPOP=_raw_proof(key, claims)
    )

    assert response.status_code == 401


@pytest.mark.parametrize("exponent", [3])
def test_an_rsa_key_with_an_odd_exponent_is_refused(client, machine, exponent):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    raw = rsa.generate_private_key(public_exponent=exponent, key_size=2048)
    odd = RSAKey.import_key(raw)
    key = DPoPKey("RS256")
    proof = key.proof(header={"jwk": odd.as_dict(private=False)}, key=odd)

    response = _cc(client, machine, proof)

    assert response.json()["error"] == "invalid_dpop_proof"
    assert "exponent" in response.json()["error_description"]


def test_a_wrong_key_does_not_use_up_the_proof(client, spa, signed_in, key):
    """The key is compared before the proof is recorded: a proof refused for its key can
    still be presented where it is right (nothing is burned by a mismatch)."""
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier, dpop_jkt=DPoPKey().jkt)
    proof = key.proof()

    assert exchange(client, spa, code, verifier, HTTP_DPOP=proof).json()["error"] == "invalid_grant"
    assert not UsedProof.objects.exists()


def test_a_proof_stays_used_when_the_token_request_fails_afterwards(
    client, spa, signed_in, user, key
):
    verifier = new_verifier()
    code = get_code(signed_in, spa, verifier=verifier)
    # The user is deactivated: the exchange fails inside the token transaction, which
    # rolls back everything it wrote.
    user.is_active = False
    user.save()
    proof = key.proof()

    failed = exchange(client, spa, code, verifier, HTTP_DPOP=proof)

    assert failed.json()["error"] == "invalid_grant"
    # The proof was checked and recorded before that transaction: it stays used.
    assert UsedProof.objects.count() == 1


def test_htu_is_the_url_reached_not_a_scheme_relative_path(client, key):
    from django.test import RequestFactory

    request = RequestFactory().get("/api/read/")
    request.path = "//evil.example/api/read/"  # as a server passes such a request line on

    assert proofs.request_url(request) == "http://testserver//evil.example/api/read/"


def test_validate_alone_refuses_a_bound_token(client, machine, key):
    token = _cc(client, machine, key.proof()).json()["access_token"]

    assert validate(token) is Refusal.KEY_BOUND
    assert isinstance(validate(token, bound_ok=True), AccessToken)


class _Plugin:
    """Stands for oauthflow.dpop not being installed on this host: its extension off."""

    def __enter__(self):
        from oauthflow.dpop.token_endpoint import DPoPExtension
        from oauthflow.server.registry import registry

        self.removed = [e for e, _ in registry._grant_extensions if isinstance(e, DPoPExtension)]
        for extension in self.removed:
            registry.unregister_grant_extension(extension)

    def __exit__(self, *exc):
        from oauthflow.server.registry import registry

        for extension in self.removed:
            registry.register_grant_extension(extension)


def test_without_the_extension_bound_grants_are_refused_not_answered_as_bearer(
    client, spa, signed_in, key
):
    verifier = new_verifier()
    first = exchange(
        client, spa, get_code(signed_in, spa, verifier=verifier), verifier, HTTP_DPOP=key.proof()
    ).json()
    verifier = new_verifier()
    bound_code = get_code(signed_in, spa, verifier=verifier, dpop_jkt=key.jkt)
    strict = factories.ClientFactory(
        grant_types="client_credentials", dpop_bound_access_tokens=True
    )

    with _Plugin():
        refresh = token_request(
            client, spa, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
        code = exchange(client, spa, bound_code, verifier)
        cc = _cc(client, strict)

    assert refresh.json()["error"] == "invalid_grant"
    assert code.json()["error"] == "invalid_grant"
    assert cc.json()["error"] == "invalid_request"
    assert AccessToken.objects.count() == 1  # the first exchange's only


def test_a_self_contained_format_that_drops_cnf_is_refused(client, key, settings):
    from oauthflow import formats
    from oauthflow.formats.jwt import JWTFormat
    from oauthflow.models import Resource

    class Forgetful(JWTFormat):
        name = "forgetful"

        def generate(self, *, client, user, scope, expires_in, **context):
            return super().generate(client=client, user=user, scope=scope, expires_in=expires_in)

    api = Resource.objects.create(
        identifier="https://api.example.com/", name="API", token_format="jwt"
    )
    app = factories.ClientFactory(grant_types="client_credentials")
    app.resources.add(api)
    formats.register(Forgetful())
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "ADAPTER": "tests.dpop.test_review_mends.ForgetfulAdapter",
    }
    try:
        response = token_request(
            client,
            app,
            {"grant_type": "client_credentials", "scope": "read", "resource": api.identifier},
            HTTP_DPOP=key.proof(),
        )
    finally:
        formats.unregister("forgetful")

    assert response.status_code == 400
    assert "cannot be bound" in response.json()["error_description"]


from oauthflow.adapter import DefaultAdapter  # noqa: E402


class ForgetfulAdapter(DefaultAdapter):
    def get_access_token_format(self, **kwargs):
        return "forgetful"


def test_userinfo_lets_browser_apps_send_dpop(client):
    # The origin of a public client's redirect URI (oauthflow.cors).
    factories.PublicClientFactory(redirect_uris="https://spa.example/cb")
    preflight = client.options(
        "/oauth/userinfo/",
        HTTP_ORIGIN="https://spa.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, dpop",
    )
    # Expose-Headers counts on the answer itself, not on the preflight (Fetch §4.9).
    answer = client.get("/oauth/userinfo/", HTTP_ORIGIN="https://spa.example")

    assert "DPoP" in preflight["Access-Control-Allow-Headers"]
    assert "DPoP-Nonce" in answer["Access-Control-Expose-Headers"]
