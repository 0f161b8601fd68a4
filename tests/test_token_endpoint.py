"""The token endpoint: client authentication, each grant, single use, rotation, errors."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.utils import timezone

from oauthflow import tokens
from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from oauthflow.signals import token_issued, token_reuse_detected
from tests import factories
from tests.oauth_helpers import TOKEN, basic, exchange, get_code, new_verifier, token_request


@pytest.fixture
def issued(signed_in, client_app):
    """A code exchanged for tokens; returns the token response body."""
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    response = exchange(signed_in, client_app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def assert_error(response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert set(body) <= {"error", "error_description", "error_uri"}


def first_tokens(http, client_app, **kwargs) -> dict:
    """The token response to a code just issued with ``kwargs`` as authorize parameters."""
    verifier = new_verifier()
    code = get_code(http, client_app, verifier=verifier, **kwargs)
    return exchange(http, client_app, code, verifier).json()


def refresh(http, client_app, refresh_token: str, **extra):
    return token_request(
        http, client_app, {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    )


# authorization_code ---------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_code_exchange_for_confidential_client(signed_in, user, client_app, auth):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    response = exchange(signed_in, client_app, code, verifier, auth=auth)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read"
    assert body["access_token"].startswith("ofat_")
    assert body["refresh_token"].startswith("ofrt_")
    access = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    refresh_row = RefreshToken.objects.get(digest=tokens.digest(body["refresh_token"]))
    code_row = AuthorizationCode.objects.get()
    assert access.user == user and access.client == client_app
    assert access.family == refresh_row.family == code_row.family
    assert code_row.redeemed_at is not None


def test_code_exchange_for_public_client(signed_in, public_client):
    verifier = new_verifier()
    code = get_code(signed_in, public_client, verifier=verifier)
    response = exchange(signed_in, public_client, code, verifier)
    assert response.status_code == 200
    assert "refresh_token" in response.json()


def test_no_refresh_token_without_the_refresh_grant(signed_in):
    client_app = factories.ClientFactory(grant_types="authorization_code")
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    body = exchange(signed_in, client_app, code, verifier).json()
    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()


def test_code_is_bound_to_its_client(signed_in, client_app):
    other = factories.ClientFactory(redirect_uris=client_app.redirect_uris)
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    assert_error(exchange(signed_in, other, code, verifier), "invalid_grant")
    # The rightful client can still redeem it: a wrong client does not burn the code.
    assert exchange(signed_in, client_app, code, verifier).status_code == 200


def test_redirect_uri_must_match(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "https://client.example.com/other",
    }
    assert_error(token_request(signed_in, client_app, data), "invalid_grant")
    del data["redirect_uri"]
    assert_error(token_request(signed_in, client_app, data), "invalid_grant")


def test_redirect_uri_may_be_omitted_when_the_request_had_none(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier, redirect_uri=None)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    assert token_request(signed_in, client_app, data).status_code == 200


@pytest.mark.parametrize("verifier_sent", [None, "wrong" * 10, "short"])
def test_wrong_or_missing_verifier_is_invalid_grant(signed_in, client_app, verifier_sent):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client_app.redirect_uri_list[0],
    }
    if verifier_sent:
        data["code_verifier"] = verifier_sent
    assert_error(token_request(signed_in, client_app, data), "invalid_grant")
    assert not AccessToken.objects.exists()


def test_verifier_without_challenge_is_invalid_grant(signed_in, client_app):
    with override_settings(
        OAUTHFLOW={
            "ALLOW_INSECURE_TRANSPORT": True,
            "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": False,
        }
    ):
        url_code = get_code(signed_in, client_app, verifier=None)  # no challenge
        response = exchange(signed_in, client_app, url_code, new_verifier())
        assert_error(response, "invalid_grant")
        data = {
            "grant_type": "authorization_code",
            "code": url_code,
            "redirect_uri": client_app.redirect_uri_list[0],
        }
        assert token_request(signed_in, client_app, data).status_code == 200


def test_expired_code_is_invalid_grant(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    later = timezone.now() + timedelta(seconds=61)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert_error(exchange(signed_in, client_app, code, verifier), "invalid_grant")


def test_unknown_code_is_invalid_grant(signed_in, client_app):
    assert_error(exchange(signed_in, client_app, "ofac_nope", new_verifier()), "invalid_grant")


def test_second_redemption_fails_and_revokes_everything_from_the_code(
    signed_in, client_app, record, committed
):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    first = exchange(signed_in, client_app, code, verifier).json()
    detected = record(token_reuse_detected)
    with committed():
        assert_error(exchange(signed_in, client_app, code, verifier), "invalid_grant")
    assert AccessToken.objects.get(digest=tokens.digest(first["access_token"])).is_revoked()
    assert RefreshToken.objects.get(digest=tokens.digest(first["refresh_token"])).is_revoked()
    assert AccessToken.objects.count() == 1
    assert detected[0]["credential"] == "authorization_code"
    assert_error(refresh(signed_in, client_app, first["refresh_token"]), "invalid_grant")


def test_code_of_inactive_user_is_invalid_grant(signed_in, user, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    user.is_active = False
    user.save()
    assert_error(exchange(signed_in, client_app, code, verifier), "invalid_grant")


# client authentication ------------------------------------------------------------------


def _code_request(client_app) -> dict:
    return {"grant_type": "authorization_code", "code": "ofac_x", "code_verifier": "v" * 43}


def test_wrong_secret_is_invalid_client_with_basic_challenge(client, client_app):
    response = client.post(
        TOKEN,
        urlencode(_code_request(client_app)),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, "ofcs_wrong"),
    )
    assert_error(response, "invalid_client", status=401)
    assert response["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!notbase64",
        "Basic " + "//79/w==",  # bytes that are not UTF-8
        "Basic " + "YQBiOmM=",  # a NUL inside
        "Basic",
    ],
)
def test_malformed_basic_header_is_invalid_client(client, client_app, header):
    response = client.post(
        TOKEN,
        urlencode(_code_request(client_app)),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=header,
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_unknown_client_is_invalid_client(client, db):
    response = client.post(
        TOKEN,
        urlencode({"grant_type": "client_credentials"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("nobody", "ofcs_x"),
    )
    assert_error(response, "invalid_client", status=401)


def test_confidential_client_without_secret_is_invalid_client(client, client_app):
    data = {**_code_request(client_app), "client_id": client_app.client_id}
    response = client.post(TOKEN, urlencode(data), content_type="application/x-www-form-urlencoded")
    assert_error(response, "invalid_client", status=401)


def test_public_client_sending_a_secret_is_invalid_client(client, public_client):
    data = {
        **_code_request(public_client),
        "client_id": public_client.client_id,
        "client_secret": "ofcs_whatever",
    }
    response = client.post(TOKEN, urlencode(data), content_type="application/x-www-form-urlencoded")
    assert_error(response, "invalid_client", status=401)


def test_inactive_client_is_invalid_client(client, client_app):
    client_app.is_active = False
    client_app.save()
    response = token_request(client, client_app, {"grant_type": "client_credentials"})
    assert_error(response, "invalid_client", status=401)


def test_client_secret_check_uses_no_password_hasher(client, client_app):
    with mock.patch("django.contrib.auth.hashers.check_password") as check_password:
        token_request(client, client_app, {"grant_type": "client_credentials"})
    check_password.assert_not_called()


def test_grant_type_not_registered_is_unauthorized_client(client, client_app):
    response = token_request(client, client_app, {"grant_type": "client_credentials"})
    assert_error(response, "unauthorized_client")


# refresh_token --------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_token_dies(signed_in, client_app, issued, record, committed):
    issued_signals = record(token_issued)
    with committed():
        response = refresh(signed_in, client_app, issued["refresh_token"])
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != issued["refresh_token"]
    assert new["access_token"] != issued["access_token"]
    old_row = RefreshToken.objects.get(digest=tokens.digest(issued["refresh_token"]))
    new_row = RefreshToken.objects.get(digest=tokens.digest(new["refresh_token"]))
    assert old_row.rotated_at is not None
    assert new_row.rotated_from == old_row
    assert old_row.rotated_into == new_row
    assert new_row.family == old_row.family
    assert new_row.family_expires_at == old_row.family_expires_at
    assert issued_signals[0]["grant_type"] == "refresh_token"
    assert issued_signals[0]["refresh_token"] == new_row


def test_reused_refresh_token_revokes_the_whole_family(
    signed_in, client_app, issued, record, committed
):
    new = refresh(signed_in, client_app, issued["refresh_token"]).json()
    newer = refresh(signed_in, client_app, new["refresh_token"]).json()
    detected = record(token_reuse_detected)
    with committed():
        assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")
    family = RefreshToken.objects.get(digest=tokens.digest(issued["refresh_token"])).family
    assert not AccessToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    assert AccessToken.objects.filter(family=family).count() == 3
    assert detected[0]["credential"] == "refresh_token"
    assert detected[0]["family"] == family
    assert_error(refresh(signed_in, client_app, newer["refresh_token"]), "invalid_grant")


def test_other_family_survives_reuse_detection(signed_in, client_app, issued):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    other = exchange(signed_in, client_app, code, verifier).json()
    refresh(signed_in, client_app, issued["refresh_token"])
    refresh(signed_in, client_app, issued["refresh_token"])  # reuse
    assert refresh(signed_in, client_app, other["refresh_token"]).status_code == 200


def test_refresh_with_narrower_scope(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier, scope="read write")
    body = exchange(signed_in, client_app, code, verifier).json()
    response = refresh(signed_in, client_app, body["refresh_token"], scope="read")
    assert response.status_code == 200
    assert response.json()["scope"] == "read"


def test_refresh_with_wider_scope_is_invalid_scope(signed_in, client_app, issued):
    assert_error(
        refresh(signed_in, client_app, issued["refresh_token"], scope="read write"), "invalid_scope"
    )
    # The failed attempt consumed nothing.
    assert refresh(signed_in, client_app, issued["refresh_token"]).status_code == 200


def test_refresh_token_is_bound_to_its_client(signed_in, client_app, issued):
    other = factories.ClientFactory()
    assert_error(refresh(signed_in, other, issued["refresh_token"]), "invalid_grant")
    assert refresh(signed_in, client_app, issued["refresh_token"]).status_code == 200


def test_refresh_token_idle_lifetime(signed_in, client_app, issued):
    later = timezone.now() + timedelta(days=30, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")


def test_refresh_token_absolute_lifetime(signed_in, client_app, issued):
    token = issued["refresh_token"]
    start = timezone.now()
    # Refresh every 29 days: the idle limit never hits, the absolute one does.
    for day in (29, 58, 87):
        with mock.patch("django.utils.timezone.now", return_value=start + timedelta(days=day)):
            response = refresh(signed_in, client_app, token)
            assert response.status_code == 200, day
            token = response.json()["refresh_token"]
    last = RefreshToken.objects.get(digest=tokens.digest(token))
    assert last.expires_at == last.family_expires_at  # capped by the absolute lifetime
    with mock.patch(
        "django.utils.timezone.now", return_value=start + timedelta(days=90, seconds=1)
    ):
        assert_error(refresh(signed_in, client_app, token), "invalid_grant")


def test_revoked_refresh_token_is_invalid_grant(signed_in, client_app, issued):
    RefreshToken.objects.update(revoked_at=timezone.now())
    assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")


def test_missing_refresh_token_is_invalid_request(signed_in, client_app):
    assert_error(
        token_request(signed_in, client_app, {"grant_type": "refresh_token"}), "invalid_request"
    )


# client_credentials ---------------------------------------------------------------------


def test_client_credentials_issue_an_access_token_only(client, db):
    client_app = factories.ClientFactory(
        grant_types="client_credentials", redirect_uris="", allowed_scopes="read"
    )
    response = token_request(
        client, client_app, {"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    row = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert row.user is None and row.client == client_app


def test_client_credentials_scope_outside_the_client_is_invalid_scope(client, db):
    client_app = factories.ClientFactory(
        grant_types="client_credentials", redirect_uris="", allowed_scopes="read"
    )
    response = token_request(
        client, client_app, {"grant_type": "client_credentials", "scope": "write"}
    )
    assert_error(response, "invalid_scope")


# malformed requests ---------------------------------------------------------------------


def test_get_is_refused_with_json(client, db):
    response = client.get(TOKEN)
    assert_error(response, "invalid_request", status=405)
    assert response["Allow"] == "POST"


def test_json_body_is_refused(client, client_app):
    response = client.post(
        TOKEN, {"grant_type": "client_credentials"}, content_type="application/json"
    )
    assert_error(response, "invalid_request")


def test_multipart_body_is_refused(client, client_app):
    assert_error(client.post(TOKEN, {"grant_type": "client_credentials"}), "invalid_request")


def test_repeated_parameter_is_invalid_request(client, client_app):
    body = "grant_type=client_credentials&grant_type=client_credentials"
    response = client.post(
        TOKEN,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    assert_error(response, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&client_id=%00",
        b"grant_type=client_credentials&client_id=%ff%fe",
        b"grant_type=client_credentials&client_id=" + b"a" * 5000,
        b"grant_type=\xff",
        b"&".join(b"f%d=1" % i for i in range(60)),
    ],
)
def test_malformed_body_is_invalid_request(client, db, body):
    response = client.post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert_error(response, "invalid_request")


def test_unsupported_grant_type(client, client_app):
    response = token_request(client, client_app, {"grant_type": "password"})
    assert_error(response, "unsupported_grant_type")


def test_query_string_credentials_are_ignored(client, client_app):
    response = client.post(
        TOKEN + f"?client_id={client_app.client_id}&client_secret={client_app.secret}",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, "invalid_client", status=401)


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False})
def test_plain_http_from_a_public_host_is_refused(client, client_app):
    assert_error(
        token_request(client, client_app, {"grant_type": "client_credentials"}), "invalid_request"
    )


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False})
def test_a_host_header_claiming_loopback_does_not_exempt_a_remote_peer(client, db):
    client_app = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    data = urlencode({"grant_type": "client_credentials", "scope": "read"})
    auth = basic(client_app.client_id, client_app.secret)
    remote = client.post(
        TOKEN,
        data,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=auth,
        HTTP_HOST="localhost",
        REMOTE_ADDR="203.0.113.5",
    )
    assert_error(remote, "invalid_request")
    local = client.post(
        TOKEN,
        data,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=auth,
        HTTP_HOST="localhost",
        REMOTE_ADDR="127.0.0.1",
    )
    assert local.status_code == 200, local.content


def test_failure_while_issuing_leaves_nothing_half_written(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    with mock.patch.object(RefreshToken.objects, "create", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            exchange(signed_in, client_app, code, verifier)
    assert not AccessToken.objects.exists()
    assert AuthorizationCode.objects.get().redeemed_at is None
    assert exchange(signed_in, client_app, code, verifier).status_code == 200


def test_two_authentication_methods_at_once_is_invalid_request(client, client_app):
    body = urlencode({"grant_type": "client_credentials", "client_secret": client_app.secret})
    response = client.post(
        TOKEN,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, client_app.secret),
    )
    assert_error(response, "invalid_request")


def test_blank_scope_on_refresh_keeps_the_original_grant(signed_in):
    client_app = factories.ClientFactory(default_scopes="read write")
    first = first_tokens(signed_in, client_app, scope="read")
    response = refresh(signed_in, client_app, first["refresh_token"], scope=" ")
    assert response.json()["scope"] == "read"


def test_narrower_refresh_keeps_the_refresh_tokens_scope(signed_in, client_app):
    first = first_tokens(signed_in, client_app, scope="read write")
    narrowed = refresh(signed_in, client_app, first["refresh_token"], scope="read").json()
    assert narrowed["scope"] == "read"
    row = RefreshToken.objects.get(digest=tokens.digest(narrowed["refresh_token"]))
    assert row.scope == "read write"
    again = refresh(signed_in, client_app, narrowed["refresh_token"], scope="read write")
    assert again.status_code == 200
    assert again.json()["scope"] == "read write"


def test_redirect_uri_sent_only_at_the_token_endpoint_must_match(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier, redirect_uri=None)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    bad = token_request(signed_in, client_app, {**data, "redirect_uri": "https://evil.example/cb"})
    assert bad.json()["error"] == "invalid_grant"
    good = token_request(
        signed_in, client_app, {**data, "redirect_uri": client_app.redirect_uri_list[0]}
    )
    assert good.status_code == 200


def test_expired_used_code_does_not_revoke_the_authorization(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    exchange(signed_in, client_app, code, verifier)
    later = timezone.now() + timedelta(days=3)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert exchange(signed_in, client_app, code, verifier).json()["error"] == "invalid_grant"
    assert RefreshToken.objects.get().revoked_at is None


def test_used_code_within_its_lifetime_still_revokes(signed_in, client_app):
    verifier = new_verifier()
    code = get_code(signed_in, client_app, verifier=verifier)
    exchange(signed_in, client_app, code, verifier)
    exchange(signed_in, client_app, code, verifier)
    assert RefreshToken.objects.get().revoked_at is not None


def test_public_client_with_a_wrong_basic_secret_is_invalid_client(signed_in, public_client):
    verifier = new_verifier()
    code = get_code(signed_in, public_client, verifier=verifier)
    response = signed_in.post(
        "/oauth/token/",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": public_client.redirect_uri_list[0],
                "client_id": public_client.client_id,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(public_client.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert AuthorizationCode.objects.get().redeemed_at is None


def test_rotated_refresh_token_stays_reuse_evidence_until_the_family_ends(signed_in, client_app):
    from oauthflow.store import cleanup

    first = first_tokens(signed_in, client_app)
    second = refresh(signed_in, client_app, first["refresh_token"]).json()
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(days=29)):
        # Keep the family alive by using it, as a thief would.
        third = refresh(signed_in, client_app, second["refresh_token"]).json()
        assert "refresh_token" in third, third
    # Past the first token's idle expiry; a clean-up has run since.
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(days=31)):
        cleanup.clear_tokens()
        reused = refresh(signed_in, client_app, first["refresh_token"])
    assert reused.json()["error"] == "invalid_grant"
    live = RefreshToken.objects.get(digest=tokens.digest(third["refresh_token"]))
    assert live.revoked_at is not None


def test_rotated_refresh_token_after_the_family_ended_is_just_invalid(signed_in, client_app):
    first = first_tokens(signed_in, client_app)
    refresh(signed_in, client_app, first["refresh_token"])
    later = timezone.now() + timedelta(days=91)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with mock.patch("oauthflow.server.authorization_server.revoke_family") as revoke:
            assert refresh(signed_in, client_app, first["refresh_token"]).status_code == 400
    revoke.assert_not_called()


@pytest.mark.parametrize("path", [TOKEN, "/oauth/revoke/", "/oauth/introspect/"])
def test_basic_for_one_client_with_another_client_id_in_the_body_is_refused(client, db, path):
    app = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    other = factories.ClientFactory()
    response = client.post(
        path,
        urlencode(
            {
                "grant_type": "client_credentials",
                "scope": "read",
                "token": "ofat_x",
                "client_id": other.client_id,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(app.client_id, app.secret),
    )
    assert_error(response, "invalid_request")
    assert not AccessToken.objects.exists()


def test_basic_with_the_same_client_id_in_the_body_is_fine(client, db):
    app = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    response = client.post(
        TOKEN,
        urlencode(
            {"grant_type": "client_credentials", "scope": "read", "client_id": app.client_id}
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(app.client_id, app.secret),
    )
    assert response.status_code == 200


# A retried refresh (REFRESH_TOKEN_REUSE_GRACE) -----------------------------------------


@pytest.fixture
def grace(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "REFRESH_TOKEN_REUSE_GRACE": 30}


def test_without_a_grace_window_a_retry_revokes_the_family(signed_in, client_app, issued):
    lost = refresh(signed_in, client_app, issued["refresh_token"]).json()
    assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")
    assert RefreshToken.objects.get(digest=tokens.digest(lost["refresh_token"])).is_revoked()


def test_a_retry_within_the_grace_window_gets_a_working_pair(
    signed_in, client_app, issued, grace, record, committed
):
    detected = record(token_reuse_detected)
    lost = refresh(signed_in, client_app, issued["refresh_token"]).json()
    with committed():
        retried = refresh(signed_in, client_app, issued["refresh_token"])
    assert retried.status_code == 200, retried.content
    assert detected == []
    pair = retried.json()
    assert pair["refresh_token"] not in (lost["refresh_token"], issued["refresh_token"])
    # The access token the lost response carried no longer works.
    assert AccessToken.objects.get(digest=tokens.digest(lost["access_token"])).is_revoked()
    # The new pair carries on the family and the original grant.
    lost_refresh = RefreshToken.objects.get(digest=tokens.digest(lost["refresh_token"]))
    row = RefreshToken.objects.get(digest=tokens.digest(pair["refresh_token"]))
    assert row.family == lost_refresh.family and row.rotated_from == lost_refresh
    assert row.family_expires_at == lost_refresh.family_expires_at
    assert refresh(signed_in, client_app, pair["refresh_token"]).status_code == 200


def test_the_superseded_refresh_token_is_reuse_evidence(
    signed_in, client_app, issued, grace, record, committed
):
    """A thief who retried first gets the pair; when the client then uses the one it did
    receive, that is reuse, and the family (the thief's pair too) is revoked."""
    detected = record(token_reuse_detected)
    received = refresh(signed_in, client_app, issued["refresh_token"]).json()
    stolen = refresh(signed_in, client_app, issued["refresh_token"]).json()  # the thief
    with committed():
        assert_error(refresh(signed_in, client_app, received["refresh_token"]), "invalid_grant")
    assert [kw["credential"] for kw in detected] == ["refresh_token"]
    assert_error(refresh(signed_in, client_app, stolen["refresh_token"]), "invalid_grant")


def test_only_one_retry_is_granted(signed_in, client_app, issued, grace):
    refresh(signed_in, client_app, issued["refresh_token"])
    assert refresh(signed_in, client_app, issued["refresh_token"]).status_code == 200
    assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")
    family = RefreshToken.objects.get(digest=tokens.digest(issued["refresh_token"])).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()


def test_once_the_successor_was_used_a_retry_is_reuse(signed_in, client_app, issued, grace):
    new = refresh(signed_in, client_app, issued["refresh_token"]).json()
    refresh(signed_in, client_app, new["refresh_token"])
    assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")
    family = RefreshToken.objects.get(digest=tokens.digest(issued["refresh_token"])).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()


def test_after_the_grace_window_a_retry_is_reuse(signed_in, client_app, issued, grace):
    refresh(signed_in, client_app, issued["refresh_token"])
    later = timezone.now() + timedelta(seconds=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert_error(refresh(signed_in, client_app, issued["refresh_token"]), "invalid_grant")
    family = RefreshToken.objects.get(digest=tokens.digest(issued["refresh_token"])).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()


def test_another_client_gets_nothing_from_the_grace_window(signed_in, client_app, issued, grace):
    refresh(signed_in, client_app, issued["refresh_token"])
    other = factories.ClientFactory()
    assert_error(refresh(signed_in, other, issued["refresh_token"]), "invalid_grant")


# Error descriptions a developer can act on -----------------------------------------------


def test_a_wrong_secret_is_described_in_a_sentence(client, client_app):
    response = client.post(
        TOKEN,
        urlencode({"grant_type": "client_credentials"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_app.client_id, "wrong"),
    )
    assert_error(response, "invalid_client", status=401)
    description = response.json()["error_description"]
    assert description.startswith("Client authentication failed")
    assert "[" not in description and "client_secret_basic" not in description


def test_an_unusable_refresh_token_is_described(signed_in, client_app, issued):
    refresh(signed_in, client_app, issued["refresh_token"])
    refresh(signed_in, client_app, issued["refresh_token"])  # reuse: the family is revoked
    response = refresh(signed_in, client_app, issued["refresh_token"])
    assert_error(response, "invalid_grant")
    assert response.json()["error_description"] == (
        "The refresh token is unknown, expired or revoked."
    )


def test_no_scope_and_no_default_says_so(client, db):
    app = factories.ClientFactory(grant_types="client_credentials", redirect_uris="")
    response = token_request(client, app, {"grant_type": "client_credentials"})
    assert_error(response, "invalid_scope")
    assert response.json()["error_description"].startswith("No scope was requested")
    wrong = token_request(client, app, {"grant_type": "client_credentials", "scope": "nope"})
    assert wrong.json()["error_description"] == (
        "The requested scope is unknown or not allowed for this client."
    )
