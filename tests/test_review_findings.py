"""Regression tests for the findings of the security review of the flow."""

from __future__ import annotations

import logging
import re
import sys
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter

from oauthflow import tokens, views
from oauthflow.models import AccessToken, AuthorizationCode, RefreshToken
from oauthflow.server import server
from oauthflow.signals import token_issued
from tests import factories
from tests.oauth_helpers import (
    authorize_url,
    basic,
    exchange,
    get_code,
    new_verifier,
    query_of,
    token_request,
)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def first_tokens(http, client_app, **kwargs) -> dict:
    verifier = new_verifier()
    code = get_code(http, client_app, verifier=verifier, **kwargs)
    return exchange(http, client_app, code, verifier).json()


def refresh(http, client_app, value: str, **extra):
    return token_request(
        http, client_app, {"grant_type": "refresh_token", "refresh_token": value, **extra}
    )


def test_consent_form_posts_pass_csrf_origin_checks(user, client_app):
    """Browsers send ``Origin: null`` under ``Referrer-Policy: no-referrer``; the page must
    use a policy that keeps its own origin so Django's CSRF check accepts the form."""
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    url = authorize_url(client_app, verifier=new_verifier())
    page = http.get(url)
    assert page["Referrer-Policy"] == "same-origin"
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = http.post(
        url, {"decision": "allow", "csrfmiddlewaretoken": csrf}, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 302


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


def test_error_reports_hide_the_token_endpoint_body(client_app, monkeypatch):
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": "ofrt_supersecretrefreshvalue",
            "client_id": client_app.client_id,
            "client_secret": client_app.secret,
        }
    )
    request = RequestFactory().post(
        "/oauth/token/", body, content_type="application/x-www-form-urlencoded"
    )
    monkeypatch.setattr(server, "create_token_response", lambda r: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        views.token(request)
    report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "ofrt_supersecretrefreshvalue" not in report
    assert client_app.secret not in report


def test_native_client_is_asked_again_despite_remembered_consent(signed_in, public_client):
    get_code(
        signed_in,
        public_client,
        verifier=new_verifier(),
        redirect_uri="http://127.0.0.1:5000/callback",
    )
    url = authorize_url(
        public_client, verifier=new_verifier(), redirect_uri="http://127.0.0.1:6000/callback"
    )
    assert signed_in.get(url).status_code == 200
    none = signed_in.get(url + "&prompt=none")
    assert query_of(none["Location"])["error"] == "consent_required"


def test_public_web_client_with_https_redirect_may_skip_remembered_consent(signed_in):
    spa = factories.PublicClientFactory(redirect_uris="https://spa.example.com/cb")
    get_code(signed_in, spa, verifier=new_verifier())
    response = signed_in.get(authorize_url(spa, verifier=new_verifier()))
    assert response.status_code == 302
    assert "code" in query_of(response["Location"])


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


@pytest.mark.parametrize("value", ["\x00", "x" * 5000, "é"])
def test_authorized_apps_rejects_hostile_client_id(signed_in, value):
    assert signed_in.post("/oauth/authorized-apps/", {"client_id": value}).status_code == 400


def test_failing_signal_receiver_does_not_turn_success_into_500(signed_in, client_app, caplog):
    def boom(**kwargs):
        raise RuntimeError("receiver bug")

    token_issued.connect(boom, weak=False, dispatch_uid="boom")
    try:
        verifier = new_verifier()
        code = get_code(signed_in, client_app, verifier=verifier)
        with caplog.at_level(logging.ERROR, logger="oauthflow.signals"):
            response = exchange(signed_in, client_app, code, verifier)
    finally:
        token_issued.disconnect(dispatch_uid="boom")
    assert response.status_code == 200
    assert AccessToken.objects.count() == 1
    assert "receiver" in caplog.text
    assert response.json()["access_token"] not in caplog.text


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


# Second review: resource side and operations ------------------------------------------


def test_rotated_refresh_token_stays_reuse_evidence_until_the_family_ends(signed_in, client_app):
    from oauthflow import cleanup

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
        with mock.patch("oauthflow.server.revoke_family") as revoke:
            assert refresh(signed_in, client_app, first["refresh_token"]).status_code == 400
    revoke.assert_not_called()


def test_form_body_token_is_hidden_in_error_reports(client_app, settings, db):
    from oauthflow.decorators import require_oauth

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_FORM_BODY_TOKEN": True}
    token = factories.AccessTokenFactory(client=client_app)

    @require_oauth(scopes=["read"])
    def view(request):
        raise ZeroDivisionError

    request = RequestFactory().post(
        "/x/",
        urlencode({"access_token": token.value}),
        content_type="application/x-www-form-urlencoded",
    )
    with pytest.raises(ZeroDivisionError):
        view(request)
    report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert token.value not in report


def test_cleartokens_batch_size_below_one_is_a_check_error(settings):
    from oauthflow.checks import check_settings

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "CLEARTOKENS_BATCH_SIZE": 0}
    assert "oauthflow.E004" in [m.id for m in check_settings()]


def test_client_create_with_undecodable_name_is_a_clear_error(db):
    from django.core.management import CommandError, call_command

    from oauthflow.models import Client

    with pytest.raises(CommandError, match="not valid UTF-8"):
        call_command(
            "oauthflow_client",
            "create",
            "--name",
            "\udcff",
            "--redirect-uri",
            "https://a.example/cb",
        )
    assert not Client.objects.exists()
