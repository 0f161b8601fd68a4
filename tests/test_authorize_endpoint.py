"""The authorization endpoint: validation order, login, prompt, consent, response."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from oauthflow import tokens
from oauthflow.models import AuthorizationCode, Consent
from oauthflow.signals import authorization_denied, authorization_granted
from tests import factories
from tests.oauth_helpers import AUTHORIZE, authorize_url, get_code, new_verifier, query_of

ISS = "http://testserver"


def assert_error_page(response, error: str) -> None:
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert error in response.content.decode()


def assert_redirect_error(response, client_app, error: str, state: str = "xyz-state") -> dict:
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(client_app.redirect_uri_list[0] + "?")
    params = query_of(location)
    assert params["error"] == error
    assert params["state"] == state
    assert params["iss"] == ISS
    assert "code" not in params
    return params


# 1. Client and redirect URI first: an error page, never a redirect -----------------------


def test_unknown_client_gets_error_page(signed_in, client_app):
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier(), client_id="nope"))
    assert_error_page(response, "invalid_client")


def test_missing_client_id_gets_error_page(signed_in, client_app):
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier(), client_id=None))
    assert_error_page(response, "invalid_client")


def test_inactive_client_gets_error_page(signed_in, client_app):
    client_app.is_active = False
    client_app.save()
    assert_error_page(
        signed_in.get(authorize_url(client_app, verifier=new_verifier())), "invalid_client"
    )


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "https://client.example.com/Callback",  # case matters
        "https://client.example.com/callback/",
        "https://client.example.com/callback?x=1",
        "https://CLIENT.example.com/callback",
        "https://client.example.com:443/callback",
    ],
)
def test_unregistered_redirect_uri_gets_error_page(signed_in, client_app, redirect_uri):
    url = authorize_url(client_app, verifier=new_verifier(), redirect_uri=redirect_uri)
    assert_error_page(signed_in.get(url), "invalid_request")


def test_bad_redirect_uri_is_checked_before_response_type(signed_in, client_app):
    url = authorize_url(
        client_app,
        verifier=new_verifier(),
        redirect_uri="https://evil.example.com/",
        response_type="token",
    )
    assert_error_page(signed_in.get(url), "unsupported_response_type")


def test_omitted_redirect_uri_uses_the_single_registered_one(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), redirect_uri=None)
    response = signed_in.post(url, {"decision": "allow"})
    assert response.status_code == 302
    assert response["Location"].startswith("https://client.example.com/callback?code=")


def test_omitted_redirect_uri_with_several_registered_gets_error_page(signed_in):
    client_app = factories.ClientFactory(
        redirect_uris="https://a.example.com/cb https://b.example.com/cb"
    )
    url = authorize_url(client_app, verifier=new_verifier(), redirect_uri=None)
    assert_error_page(signed_in.get(url), "invalid_request")


def test_native_client_loopback_redirect_may_vary_the_port(signed_in, public_client):
    url = authorize_url(
        public_client, verifier=new_verifier(), redirect_uri="http://127.0.0.1:53124/callback"
    )
    response = signed_in.post(url, {"decision": "allow"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:53124/callback?code=")


def test_confidential_client_loopback_redirect_may_not_vary_the_port(signed_in):
    client_app = factories.ClientFactory(redirect_uris="http://127.0.0.1:8000/cb")
    url = authorize_url(
        client_app, verifier=new_verifier(), redirect_uri="http://127.0.0.1:9000/cb"
    )
    assert_error_page(signed_in.get(url), "invalid_request")


# 2. Then errors by redirect, with state and iss -----------------------------------------


@pytest.mark.parametrize("response_type", ["token", "code token", "id_token"])
def test_unsupported_response_type_redirects(signed_in, client_app, response_type):
    url = authorize_url(client_app, verifier=new_verifier(), response_type=response_type)
    assert_redirect_error(signed_in.get(url), client_app, "unsupported_response_type")


@pytest.mark.parametrize("response_type", [None, ""])
def test_missing_response_type_is_invalid_request(signed_in, client_app, response_type):
    """RFC 6749 §4.1.2.1; a parameter without a value counts as omitted (§3.1)."""
    url = authorize_url(client_app, verifier=new_verifier(), response_type=response_type)
    assert_redirect_error(signed_in.get(url), client_app, "invalid_request")


def test_head_is_answered_like_get(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    response = signed_in.head(url)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == signed_in.get(url)["Content-Security-Policy"]


def test_unknown_scope_redirects_invalid_scope(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), scope="read admin")
    assert_redirect_error(signed_in.get(url), client_app, "invalid_scope")


def test_scope_the_client_may_not_ask_for_redirects_invalid_scope(signed_in):
    client_app = factories.ClientFactory(allowed_scopes="read")
    url = authorize_url(client_app, verifier=new_verifier(), scope="write")
    assert_redirect_error(signed_in.get(url), client_app, "invalid_scope")


def test_no_scope_and_no_default_redirects_invalid_scope(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), scope=None)
    assert_redirect_error(signed_in.get(url), client_app, "invalid_scope")


def test_no_scope_uses_client_default_scopes(signed_in):
    client_app = factories.ClientFactory(default_scopes="read profile")
    url = authorize_url(client_app, verifier=new_verifier(), scope=None)
    response = signed_in.get(url)
    assert response.status_code == 200
    assert "See your name and email address" in response.content.decode()


def test_missing_code_challenge_redirects_invalid_request(signed_in, client_app):
    url = authorize_url(client_app)  # no verifier, so no challenge
    assert_redirect_error(signed_in.get(url), client_app, "invalid_request")


def test_missing_code_challenge_for_public_client_redirects(signed_in, public_client):
    response = signed_in.get(authorize_url(public_client))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["plain", "s256", "S512", None])
def test_code_challenge_method_other_than_s256_redirects(signed_in, client_app, method):
    url = authorize_url(client_app, verifier=new_verifier(), code_challenge_method=method)
    assert_redirect_error(signed_in.get(url), client_app, "invalid_request")


def test_malformed_code_challenge_redirects(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), code_challenge="short")
    assert_redirect_error(signed_in.get(url), client_app, "invalid_request")


def test_pkce_may_be_relaxed_for_confidential_clients_only(signed_in, client_app, public_client):
    with override_settings(
        OAUTHFLOW={
            "ALLOW_INSECURE_TRANSPORT": True,
            "PKCE_REQUIRED_FOR_CONFIDENTIAL_CLIENTS": False,
        }
    ):
        assert signed_in.get(authorize_url(client_app)).status_code == 200
        response = signed_in.get(authorize_url(public_client))
        assert query_of(response["Location"])["error"] == "invalid_request"


def test_error_redirect_without_state_has_no_state(signed_in, client_app):
    response = signed_in.get(authorize_url(client_app, state=None, response_type="token"))
    params = query_of(response["Location"])
    assert params["error"] == "unsupported_response_type"
    assert "state" not in params
    assert params["iss"] == ISS


def test_repeated_parameter_gets_error_page(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier()) + "&scope=write"
    assert_error_page(signed_in.get(url), "invalid_request")


@pytest.mark.parametrize(
    "query",
    [
        "client_id=%00abc&response_type=code",
        "client_id=%FF%FE&response_type=code",
        "state=" + "a" * 5000,
    ],
)
def test_malformed_parameters_get_error_page(signed_in, query):
    assert_error_page(signed_in.get(AUTHORIZE + "?" + query), "invalid_request")


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False})
def test_plain_http_from_a_public_host_is_refused(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    assert_error_page(signed_in.get(url), "https")
    assert signed_in.get(url, secure=True).status_code == 200


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False})
def test_plain_http_on_loopback_is_allowed(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    assert signed_in.get(url, HTTP_HOST="127.0.0.1:8000").status_code == 200


def test_put_is_refused(signed_in, client_app):
    response = signed_in.put(authorize_url(client_app, verifier=new_verifier()))
    assert response.status_code == 405


# 3. Login and prompt --------------------------------------------------------------------


def test_anonymous_user_goes_to_login_and_comes_back_with_every_parameter(client, user, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), scope="read profile")
    response = client.get(url)
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    next_url = parse_qs(login.query)["next"][0]
    assert next_url == url
    response = client.post(
        login.path,
        {"username": "alice", "password": "correct horse battery staple", "next": next_url},
    )
    assert response["Location"] == url
    assert client.get(url).status_code == 200


def test_prompt_none_without_session_redirects_login_required(client, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), prompt="none")
    assert_redirect_error(client.get(url), client_app, "login_required")


def test_prompt_none_without_consent_redirects_consent_required(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), prompt="none")
    assert_redirect_error(signed_in.get(url), client_app, "consent_required")


def test_prompt_none_with_consent_issues_code_without_a_page(signed_in, user, client_app):
    factories.ConsentFactory(user=user, client=client_app, scope="read")
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier(), prompt="none"))
    assert response.status_code == 302
    assert "code" in query_of(response["Location"])


def test_prompt_none_with_other_values_is_invalid(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), prompt="none login")
    assert_redirect_error(signed_in.get(url), client_app, "invalid_request")


def _login_next(response) -> str:
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    return parse_qs(login.query)["next"][0]


def sign_in_again(http, next_url: str) -> str:
    response = http.post(
        "/accounts/login/",
        {"username": "alice", "password": "correct horse battery staple", "next": next_url},
    )
    return response["Location"]


def test_prompt_login_forces_a_fresh_sign_in(client, user, client_app):
    client.login(username="alice", password="correct horse battery staple")
    url = authorize_url(client_app, verifier=new_verifier(), prompt="login")
    next_url = _login_next(client.get(url))
    # Still asked while the user has not signed in again, however often they come back.
    assert _login_next(client.get(next_url))
    back = sign_in_again(client, next_url)
    assert back == next_url
    page = client.get(back)
    assert page.status_code == 200
    response = client.post(back, {"decision": "allow"})
    assert "code" in query_of(response["Location"])
    # The mark never reaches the client.
    assert "oauthflow_login" not in response["Location"]


def test_prompt_login_for_a_signed_out_user_needs_one_sign_in(client, user, client_app):
    url = authorize_url(client_app, verifier=new_verifier(), prompt="login")
    back = sign_in_again(client, _login_next(client.get(url)))
    assert client.get(back).status_code == 200


def test_prompt_login_is_not_satisfied_by_an_earlier_request(client, user, client_app):
    """Signing in for one prompt=login request (then denying) proves nothing for the next."""
    client.force_login(user)
    first = authorize_url(client_app, verifier=new_verifier(), prompt="login")
    back = sign_in_again(client, _login_next(client.get(first)))
    client.post(back, {"decision": "deny"})
    other = factories.ClientFactory(skip_consent=True)
    second = authorize_url(other, verifier=new_verifier(), prompt="login")
    assert _login_next(client.get(second))


def test_prompt_login_mark_is_bound_to_its_request(client, user, client_app):
    client.force_login(user)
    url = authorize_url(client_app, verifier=new_verifier(), prompt="login")
    back = sign_in_again(client, _login_next(client.get(url)))
    mark = parse_qs(urlsplit(back).query)["oauthflow_login"][0]
    other = authorize_url(client_app, verifier=new_verifier(), prompt="login", scope="write")
    assert _login_next(client.get(other + "&oauthflow_login=" + mark))
    assert _login_next(client.get(url + "&oauthflow_login=forged"))


def test_prompt_consent_shows_the_page_despite_remembered_consent(signed_in, user, client_app):
    factories.ConsentFactory(user=user, client=client_app, scope="read")
    url = authorize_url(client_app, verifier=new_verifier(), prompt="consent")
    assert signed_in.get(url).status_code == 200


# 4. The consent page --------------------------------------------------------------------


def test_consent_page_names_client_and_scopes(signed_in):
    client_app = factories.ClientFactory(
        name="Photo Printer", homepage_url="https://printer.example.com/"
    )
    response = signed_in.get(
        authorize_url(client_app, verifier=new_verifier(), scope="read profile")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Photo Printer" in html
    assert "https://printer.example.com/" in html
    assert "Read your data" in html
    assert "See your name and email address" in html
    assert "Change your data" not in html
    assert 'value="allow"' in html and 'value="deny"' in html
    assert "<script" not in html


def test_consent_page_escapes_client_name(signed_in):
    client_app = factories.ClientFactory(name="<script>alert(1)</script>")
    html = signed_in.get(authorize_url(client_app, verifier=new_verifier())).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_consent_page_cannot_be_framed_or_cached(signed_in, client_app):
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier()))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_consent_decision_needs_csrf_token(user, client_app):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    url = authorize_url(client_app, verifier=new_verifier())
    assert http.post(url, {"decision": "allow"}).status_code == 403
    assert not AuthorizationCode.objects.exists()
    page = http.get(url)
    token = page.context["csrf_token"]
    response = http.post(url, {"decision": "allow", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302


def test_consent_without_decision_is_an_error_page(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    assert_error_page(signed_in.post(url, {"decision": "maybe"}), "invalid_request")


def test_consent_template_can_be_overridden(signed_in, client_app, tmp_path, settings):
    override = tmp_path / "oauthflow" / "authorize.html"
    override.parent.mkdir()
    override.write_text("CUSTOM CONSENT for {{ client.name }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier()))
    assert response.content.decode() == f"CUSTOM CONSENT for {client_app.name}"


# 5. The response ------------------------------------------------------------------------


def test_allow_redirects_with_code_state_and_iss(signed_in, user, client_app, record, committed):
    received = record(authorization_granted)
    with committed():
        response = signed_in.post(
            authorize_url(client_app, verifier=new_verifier(), state="s/t&a=te?"),
            {"decision": "allow"},
        )
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["state"] == "s/t&a=te?"
    assert params["iss"] == ISS
    code = params["code"]
    assert code.startswith("ofac_")
    stored = AuthorizationCode.objects.get()
    assert stored.digest == tokens.digest(code)
    assert stored.user == user and stored.client == client_app and stored.scope == "read"
    expected_expiry = timezone.now() + timedelta(seconds=60)
    assert abs((stored.expires_at - expected_expiry).total_seconds()) < 5
    assert Consent.objects.get(user=user, client=client_app).scope == "read"
    assert received[0]["client"] == client_app and received[0]["scope"] == "read"


def test_deny_redirects_access_denied(signed_in, client_app, record, committed):
    received = record(authorization_denied)
    with committed():
        response = signed_in.post(
            authorize_url(client_app, verifier=new_verifier()), {"decision": "deny"}
        )
    assert_redirect_error(response, client_app, "access_denied")
    assert not AuthorizationCode.objects.exists()
    assert not Consent.objects.exists()
    assert len(received) == 1


def test_code_lifetime_follows_the_setting(signed_in, client_app):
    with override_settings(
        OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": True, "AUTHORIZATION_CODE_LIFETIME": 300}
    ):
        signed_in.post(authorize_url(client_app, verifier=new_verifier()), {"decision": "allow"})
    stored = AuthorizationCode.objects.get()
    assert 295 < (stored.expires_at - stored.created_at).total_seconds() <= 300


def test_remembered_consent_skips_the_page_for_same_or_narrower_scope(signed_in, user, client_app):
    factories.ConsentFactory(user=user, client=client_app, scope="read profile")
    for scope in ("read", "read profile", "profile"):
        response = signed_in.get(authorize_url(client_app, verifier=new_verifier(), scope=scope))
        assert response.status_code == 302, scope
        assert "code" in query_of(response["Location"])


def test_wider_scope_than_remembered_shows_the_page_and_widens_consent(signed_in, user, client_app):
    factories.ConsentFactory(user=user, client=client_app, scope="read")
    url = authorize_url(client_app, verifier=new_verifier(), scope="read write")
    assert signed_in.get(url).status_code == 200
    signed_in.post(url, {"decision": "allow"})
    assert set(Consent.objects.get(user=user, client=client_app).scope_list) == {"read", "write"}


def test_skip_consent_client_never_shows_the_page(signed_in):
    client_app = factories.ClientFactory(skip_consent=True)
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier()))
    assert response.status_code == 302
    assert "code" in query_of(response["Location"])


def test_prompt_consent_shows_the_page_even_to_a_skip_consent_client(signed_in):
    client_app = factories.ClientFactory(skip_consent=True)
    url = authorize_url(client_app, verifier=new_verifier(), prompt="consent")
    assert signed_in.get(url).status_code == 200


def test_skip_consent_is_ignored_for_a_native_app(signed_in):
    """RFC 8252 §8.6: any local program can use a native app's client_id and loopback
    redirect, so a crafted link must not hand it a code without the user's say."""
    native = factories.PublicClientFactory(redirect_uris="http://127.0.0.1/cb", skip_consent=True)
    for uri in ("http://127.0.0.1/cb", "http://127.0.0.1:50123/cb"):
        url = authorize_url(native, verifier=new_verifier(), redirect_uri=uri)
        assert signed_in.get(url).status_code == 200
        assert query_of(signed_in.get(url + "&prompt=none")["Location"])["error"] == (
            "consent_required"
        )


def test_skip_consent_still_works_for_a_public_web_app(signed_in):
    spa = factories.PublicClientFactory(
        redirect_uris="https://spa.example.com/cb", skip_consent=True
    )
    response = signed_in.get(authorize_url(spa, verifier=new_verifier()))
    assert response.status_code == 302 and "code" in query_of(response["Location"])


def test_skip_consent_client_still_needs_sign_in(client, db):
    client_app = factories.ClientFactory(skip_consent=True)
    response = client.get(authorize_url(client_app, verifier=new_verifier()))
    assert urlsplit(response["Location"]).path == "/accounts/login/"


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


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False}, ALLOWED_HOSTS=["*"])
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "203.0.113.5", "HTTP_HOST": "localhost"},
        {"REMOTE_ADDR": "203.0.113.5", "HTTP_HOST": "127.0.0.1:8000"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "auth.example.com"},
        {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "HTTP_X_FORWARDED_FOR": "203.0.113.5",
        },
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost", "HTTP_FORWARDED": "for=203.0.113.5"},
    ],
)
def test_plain_http_is_loopback_only_for_a_loopback_peer_and_host(signed_in, client_app, meta):
    """A Host header that claims localhost does not make a request from elsewhere local."""
    url = authorize_url(client_app, verifier=new_verifier())
    assert_error_page(signed_in.get(url, **meta), "https")


def test_no_scope_and_no_default_is_explained_to_the_client(signed_in, client_app):
    response = signed_in.get(authorize_url(client_app, verifier=new_verifier(), scope=None))
    params = query_of(response["Location"])
    assert params["error"] == "invalid_scope"
    assert params["error_description"].startswith("No scope was requested")


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False}, ALLOWED_HOSTS=["*"])
@pytest.mark.parametrize(
    "header",
    ["HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_VIA", "HTTP_X_FORWARDED_FOR"],
)
def test_any_proxy_header_even_empty_ends_the_loopback_exemption(signed_in, client_app, header):
    url = authorize_url(client_app, verifier=new_verifier())
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1", header: ""}
    assert_error_page(signed_in.get(url, **meta), "https")


@override_settings(OAUTHFLOW={"ALLOW_INSECURE_TRANSPORT": False})
def test_an_ipv4_mapped_loopback_peer_is_local(signed_in, client_app):
    url = authorize_url(client_app, verifier=new_verifier())
    response = signed_in.get(url, REMOTE_ADDR="::ffff:127.0.0.1", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
