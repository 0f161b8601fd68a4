"""Property-based: whatever arrives, the endpoints answer with an RFC error, never a 500."""

from __future__ import annotations

import base64
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}
PARAMS = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "client_id",
    "client_secret",
    "refresh_token",
    "scope",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
]
GRANTS = ["authorization_code", "refresh_token", "client_credentials", "password", "implicit"]

hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80
) | st.sampled_from(["", " ", "\x00", "a" * 5000, "%", "%%", "+", "ofat_x", "Basic"])
value = hostile_text | st.sampled_from(GRANTS)
pairs = st.lists(st.tuples(st.sampled_from(PARAMS) | hostile_text, value), max_size=8)


def encode(pairs_: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs_).encode()


# Mostly well-formed enough to reach the grants, with hostile values inside.
with_grant = st.tuples(st.sampled_from(GRANTS), pairs).map(lambda t: [("grant_type", t[0]), *t[1]])
bodies = (
    with_grant.map(encode) | with_grant.map(encode) | pairs.map(encode) | st.binary(max_size=300)
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
    ]
)
basic_garbage = st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode())
authorizations = (
    st.none()
    | basic_garbage
    | basic_garbage
    | hostile_text.map(lambda t: t.encode("utf-8", "ignore").decode("latin-1"))
)
relaxed = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def known_client(db):
    return factories.ClientFactory(
        grant_types="authorization_code refresh_token client_credentials"
    )


@relaxed
@given(
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    content_type=content_types,
    body=bodies,
    authorization=authorizations,
    use_known_client=st.sampled_from([True, False, False]),
)
def test_token_endpoint_answers_every_request_with_an_rfc_error(
    client, known_client, method, content_type, body, authorization, use_known_client
):
    extra = {}
    if use_known_client:
        extra["HTTP_AUTHORIZATION"] = (
            "Basic " + base64.b64encode(f"{known_client.client_id}:wrong".encode()).decode()
        )
    elif authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    response = client.generic(method, "/oauth/token/", body, content_type=content_type, **extra)
    assert response.status_code in (400, 401, 405), response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    payload = response.json()
    assert payload["error"] in TOKEN_ERRORS
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Basic")


@relaxed
@given(
    params=pairs,
    raw_suffix=st.text(max_size=30).map(lambda t: quote(t, safe="%&=")),
    signed_in=st.booleans(),
)
def test_authorize_endpoint_never_redirects_to_an_unverified_uri(
    client, known_client, params, raw_suffix, signed_in
):
    user = factories.UserFactory(username="mallory")
    if signed_in:
        client.force_login(user)
    else:
        client.logout()
    # Often aim at the real client so validation gets past the first checks.
    params = [("client_id", known_client.client_id), *params] if len(params) % 2 else params
    query = urlencode(params) + ("&" + raw_suffix if raw_suffix else "")
    response = client.get("/oauth/authorize/?" + query)
    assert response.status_code in (200, 302, 400), response.content[:300]
    if response.status_code == 302:
        target = urlsplit(response["Location"])
        registered = urlsplit(known_client.redirect_uri_list[0])
        assert (target.scheme, target.netloc, target.path) in {
            (registered.scheme, registered.netloc, registered.path),
            ("", "", "/accounts/login/"),
        }, response["Location"]
