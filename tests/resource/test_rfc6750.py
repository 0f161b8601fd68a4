"""Reading bearer credentials from hostile requests, and writing the challenges."""

import pytest
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from oauthflow.resource import errors, rfc6750

rf = RequestFactory()
TOKEN = "ofat_" + "A" * 43


def header(value):
    return rf.get("/", HTTP_AUTHORIZATION=value)


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"Bearer     {TOKEN}",
        f"  Bearer {TOKEN}  ",
        f"Bearer\t{TOKEN}",
    ],
)
def test_bearer_scheme_is_read_in_any_case_and_spacing(value):
    assert rfc6750.bearer_token(header(value)) == TOKEN


@pytest.mark.parametrize("value", [None, "", "Basic dXNlcjpwYXNz", "Token abc", "Bearertoken"])
def test_other_schemes_and_no_header_are_no_credentials(value):
    request = rf.get("/") if value is None else header(value)
    assert rfc6750.bearer_token(request) is None


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer   ",
        f"Bearer {TOKEN} extra",
        f"Bearer {TOKEN},",
        'Bearer "quoted"',
        "Bearer tökén",
        "Bearer " + "a" * 5000,
        "Bearer a=b",
        "Bearer \x00",
    ],
)
def test_malformed_bearer_header_is_invalid_token(value):
    with pytest.raises(errors.InvalidToken) as exc:
        rfc6750.bearer_token(header(value))
    assert exc.value.status_code == 401
    assert exc.value.error == "invalid_token"


def test_query_parameter_is_never_read():
    assert rfc6750.bearer_token(rf.get("/", {"access_token": TOKEN})) is None


def test_form_body_is_ignored_by_default():
    assert rfc6750.bearer_token(rf.post("/", {"access_token": TOKEN})) is None


@pytest.fixture
def form_body_allowed(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_FORM_BODY_TOKEN": True}


def _form_post(body, **extra):
    return rf.post("/", body, content_type="application/x-www-form-urlencoded", **extra)


def test_form_body_token_is_read_when_allowed(form_body_allowed):
    assert rfc6750.bearer_token(_form_post(f"access_token={TOKEN}&x=1")) == TOKEN


def test_form_body_token_needs_post_and_urlencoded(form_body_allowed):
    put = rf.put("/", f"access_token={TOKEN}", content_type="application/x-www-form-urlencoded")
    multipart = rf.post("/", {"access_token": TOKEN})  # multipart/form-data
    json = rf.post("/", {"access_token": TOKEN}, content_type="application/json")
    assert rfc6750.bearer_token(put) is None
    assert rfc6750.bearer_token(multipart) is None
    assert rfc6750.bearer_token(json) is None
    assert rfc6750.bearer_token(rf.get("/", {"access_token": TOKEN})) is None


def test_token_in_header_and_body_is_invalid_request(form_body_allowed):
    request = _form_post(f"access_token={TOKEN}", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    with pytest.raises(errors.InvalidRequest) as exc:
        rfc6750.bearer_token(request)
    assert exc.value.status_code == 400


def test_repeated_body_token_is_invalid_request(form_body_allowed):
    with pytest.raises(errors.InvalidRequest):
        rfc6750.bearer_token(_form_post(f"access_token={TOKEN}&access_token={TOKEN}"))


def test_malformed_body_token_is_invalid_token(form_body_allowed):
    with pytest.raises(errors.InvalidToken):
        rfc6750.bearer_token(_form_post("access_token=a%20b"))


@given(st.text(max_size=300))
def test_any_header_is_a_token_none_or_a_bearer_error(value):
    try:
        result = rfc6750.bearer_token(header(value))
    except errors.TokenError as error:
        assert error.status_code in (400, 401)
    else:
        assert result is None or rfc6750._B64TOKEN.fullmatch(result)


def test_challenge_without_error_has_only_the_realm():
    assert rfc6750.challenge() == 'Bearer realm="api"'


def test_challenge_with_error_description_and_scope():
    error = errors.InsufficientScope(["read", "write"])
    assert error.challenge() == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="The access token lacks a required scope.", scope="read write"'
    )


def test_realm_is_quoted_safely(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REALM": 'my "api"\\\r\nX-Evil: 1'}
    assert rfc6750.challenge() == 'Bearer realm="my \\"api\\"\\\\X-Evil: 1"'


def test_missing_token_challenge_has_no_error_code():
    error = errors.MissingToken()
    assert error.status_code == 401
    assert error.challenge() == 'Bearer realm="api"'
    assert error.as_dict()["error"] == "missing_authorization"
