"""ID tokens from the code exchange and from refreshes (Core §2, §3.1.3, §12.2)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from joserfc.errors import JoseError

from oauthflow.models import Authentication, Subject
from tests import factories
from tests.conftest import bearer
from tests.oauth_helpers import exchange, get_code, new_verifier, token_request
from tests.oidc.helpers import OPENID, refresh, sign_in_with_openid, verify


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_the_code_exchange_returns_a_signed_id_token(signed_in, user, client_app, settings):
    body = sign_in_with_openid(signed_in, client_app, nonce="n-0S6_WzA2Mj")
    claims = verify(signed_in, body["id_token"], algorithms=["RS256"])
    assert claims["iss"] == "http://testserver"
    assert claims["aud"] == client_app.client_id
    assert claims["sub"] == Subject.objects.get(user=user).public
    assert claims["sub"] != str(user.pk)
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["at_hash"] == at_hash(body["access_token"])
    assert claims["auth_time"] <= claims["iat"]
    assert claims["email"] == user.email and claims["preferred_username"] == "alice"
    assert claims["sid"]
    header = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["kid"]


def test_no_openid_scope_no_id_token(signed_in, client_app):
    body = sign_in_with_openid(signed_in, client_app, scope="read")
    assert "id_token" not in body
    assert not Authentication.objects.exists()


def test_the_nonce_is_left_out_when_none_was_sent(signed_in, client_app):
    claims = verify(signed_in, sign_in_with_openid(signed_in, client_app)["id_token"])
    assert "nonce" not in claims


def test_es256_per_client(signed_in, db):
    client = factories.ClientFactory(id_token_signed_response_alg="ES256")
    body = sign_in_with_openid(signed_in, client)
    assert verify(signed_in, body["id_token"], algorithms=["ES256"])["aud"] == client.client_id
    with pytest.raises(JoseError):  # the algorithm is part of what a relying party pins
        verify(signed_in, body["id_token"], algorithms=["RS256"])


def test_a_refresh_gets_a_fresh_id_token_for_the_same_sign_in(signed_in, client_app):
    first = sign_in_with_openid(signed_in, client_app, nonce="abc")
    response = refresh(signed_in, client_app, first["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    old, new = verify(signed_in, first["id_token"]), verify(signed_in, body["id_token"])
    for claim in ("iss", "sub", "aud", "auth_time", "sid"):
        assert new[claim] == old[claim]
    assert "nonce" not in new
    assert new["at_hash"] == at_hash(body["access_token"])


def test_a_refresh_narrowed_to_plain_scopes_gets_no_id_token(signed_in, client_app):
    first = sign_in_with_openid(signed_in, client_app, scope="openid read")
    body = refresh(signed_in, client_app, first["refresh_token"], scope="read").json()
    assert "id_token" not in body and body["scope"] == "read"


def test_a_code_is_redeemed_once_so_its_nonce_is_never_replayed(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier, scope=OPENID, nonce="once")
    assert "id_token" in exchange(signed_in, client_app, code, verifier).json()
    again = exchange(signed_in, client_app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "id_token" not in again.json()


def test_an_id_token_is_never_an_access_token(signed_in, client_app):
    body = sign_in_with_openid(signed_in, client_app)
    response = signed_in.get("/api/notes/", **bearer(body["id_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    userinfo = signed_in.get("/oauth/userinfo/", **bearer(body["id_token"]))
    assert userinfo.status_code == 401


def test_scopes_decide_the_claims(signed_in, user, client_app):
    user.first_name, user.last_name = "Alice", "Liddell"
    user.save()
    claims = verify(
        signed_in, sign_in_with_openid(signed_in, client_app, scope="openid")["id_token"]
    )
    assert not {"email", "name", "preferred_username"} & set(claims)
    claims = verify(
        signed_in, sign_in_with_openid(signed_in, client_app, scope="openid profile")["id_token"]
    )
    assert claims["name"] == "Alice Liddell" and "email" not in claims


def test_the_claims_parameter_asks_for_single_claims(signed_in, user, client_app):
    requested = {"id_token": {"email": {"essential": True}}, "userinfo": {"given_name": None}}
    user.first_name = "Alice"
    user.save()
    body = sign_in_with_openid(signed_in, client_app, scope="openid", claims=json.dumps(requested))
    claims = verify(signed_in, body["id_token"])
    assert claims["email"] == user.email and "given_name" not in claims
    info = signed_in.get("/oauth/userinfo/", **bearer(body["access_token"])).json()
    assert info["given_name"] == "Alice" and "email" not in info


def test_pairwise_subjects_per_sector(signed_in, user, db):
    a = factories.ClientFactory(subject_type="pairwise", redirect_uris="https://a.example.com/cb")
    a2 = factories.ClientFactory(
        subject_type="pairwise",
        redirect_uris="https://login.a.example.com/cb",
        sector_identifier_uri="https://a.example.com/sector.json",
    )
    b = factories.ClientFactory(subject_type="pairwise", redirect_uris="https://b.example.com/cb")
    public = factories.ClientFactory()
    sub = {
        c: verify(signed_in, sign_in_with_openid(signed_in, c)["id_token"])["sub"]
        for c in (a, a2, b, public)
    }
    assert sub[a] == sub[a2]
    assert len({sub[a], sub[b], sub[public]}) == 3
    assert sub[public] == Subject.objects.get(user=user).public
    info = signed_in.get(
        "/oauth/userinfo/", **bearer(sign_in_with_openid(signed_in, b)["access_token"])
    )
    assert info.json()["sub"] == sub[b]


def test_openid_costs_at_most_one_query_more_at_the_token_endpoint(
    signed_in, client_app, committed
):
    def queries(scope: str) -> int:
        verifier = new_verifier()
        code = get_code(signed_in, client_app, verifier=verifier, scope=scope)
        with CaptureQueriesContext(connection) as context:
            assert exchange(signed_in, client_app, code, verifier).status_code == 200
        return len(context.captured_queries)

    with committed():
        queries(OPENID)  # makes the signing key (kept in memory once committed)
    queries(OPENID)  # reads the key table into this process's copy
    assert queries(OPENID) == queries("read") + 1


def test_a_code_exchange_cannot_ask_for_more_claims(signed_in, client_app):
    """The token request's scope plays no part in a code exchange (RFC 6749 §4.1.3)."""
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier, scope="openid")
    response = token_request(
        signed_in,
        client_app,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client_app.redirect_uri_list[0],
            "code_verifier": verifier,
            "scope": "openid profile email",
        },
    )
    claims = verify(signed_in, response.json()["id_token"])
    assert not {"email", "preferred_username"} & set(claims)
