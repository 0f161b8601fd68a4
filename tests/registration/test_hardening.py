"""What a security review of registration found, each with the test that shows it fixed:
URLs the server sends requests to (SSRF), a pairwise client claiming another's sector,
scopes stored as "every scope", secrets on error pages, an update undoing staff's
hardening or overwriting staff's concurrent changes, consent-page spoofing, and two
answers that were not the endpoint's JSON."""

from __future__ import annotations

import json
import sys
from io import BytesIO

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from oauthflow import outbound
from oauthflow.checks import check_settings
from oauthflow.models import Client
from oauthflow.private_key_jwt import keys
from oauthflow.registration import guard, metadata, views
from oauthflow.registration.models import ClientRegistration
from oauthflow.scope import known_scopes, list_to_scope
from tests.registration.conftest import (
    NATIVE_APP,
    REGISTER,
    WEB_APP,
    path_of,
    post_json,
    put_json,
    register,
)

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def error_of(response) -> tuple[str, str]:
    assert response.status_code == 400, response.content
    body = response.json()
    return body["error"], body["error_description"]


def nothing_written() -> bool:
    return not Client.objects.exists() and not ClientRegistration.objects.exists()


def update(http, registered: dict, document: dict):
    return put_json(
        http,
        path_of(registered["registration_client_uri"]),
        {**document, "client_id": registered["client_id"]},
        registered["registration_access_token"],
    )


@pytest.fixture
def registered(client, initial_token) -> dict:
    return register(client, WEB_APP, initial_token)


@pytest.fixture
def production(settings):
    """Neither DEBUG nor ALLOW_INSECURE_TRANSPORT (requests must then be https)."""
    settings.DEBUG = False
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}


# 1. SSRF: the URLs the server sends requests to --------------------------------------------

OUTBOUND = ["jwks_uri", "backchannel_logout_uri"]
PRIVATE = [
    "https://internal.example/x",  # resolves to 10.0.0.7
    "https://metadata.example/latest",  # 169.254.169.254, the cloud metadata service
    "https://loopback.example/x",  # 127.0.0.1 by name
    "https://mixed.example/x",  # one public address and one private
    "https://v6.example/x",  # a unique local IPv6 address
    "https://nowhere.example/x",  # resolves to nothing
    "https://10.0.0.1/x",
    "https://169.254.169.254/latest",
    "https://[fd00::1]/x",
]


@pytest.mark.parametrize("member", OUTBOUND)
@pytest.mark.parametrize("url", PRIVATE)
def test_a_url_the_server_calls_must_lead_to_a_public_host(client, initial_token, member, url):
    response = post_json(client, {**WEB_APP, member: url}, initial_token)
    error, description = error_of(response)
    assert error == "invalid_client_metadata"
    assert description.startswith(f"{member}: must name a host on the public internet")
    assert nothing_written()


@pytest.mark.parametrize("member", OUTBOUND)
def test_a_public_host_is_fine(client, initial_token, member):
    body = register(client, {**WEB_APP, member: "https://rp.example/x"}, initial_token)
    assert body[member] == "https://rp.example/x"


@pytest.mark.parametrize("member", OUTBOUND)
def test_an_update_cannot_point_the_server_inward(client, registered, member):
    error, description = error_of(update(client, registered, {**WEB_APP, member: PRIVATE[1]}))
    assert error == "invalid_client_metadata" and description.startswith(f"{member}:")
    assert getattr(Client.objects.get(client_id=registered["client_id"]), member) == ""


@pytest.mark.parametrize("member", OUTBOUND)
def test_plain_http_to_this_machine_only_in_development(client, db, mode, settings, member):
    mode("open")
    document = {**NATIVE_APP, member: "http://127.0.0.1:8001/x"}
    # The tests' ALLOW_INSECURE_TRANSPORT, or DEBUG: a developer's own machine.
    assert post_json(client, document).status_code == 201
    settings.DEBUG = True
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    assert post_json(client, document, secure=True).status_code == 201
    # In production: neither http nor this machine.
    settings.DEBUG = False
    for url in ("http://127.0.0.1:8001/x", "https://127.0.0.1/x", "https://localhost/x"):
        _error, description = error_of(post_json(client, {**document, member: url}, secure=True))
        assert description.startswith(f"{member}:"), (url, description)
    # Plain http elsewhere: never.
    settings.DEBUG = True
    _error, description = error_of(
        post_json(client, {**document, member: "http://rp.example/x"}, secure=True)
    )
    assert description.startswith(f"{member}:")


def test_the_check_is_the_jwks_fetchs_own():
    """One rule, in one place (oauthflow.outbound): the JWKS fetcher uses it too."""
    assert keys.public_host is outbound.public_host
    assert metadata.public_host is outbound.public_host


# 2. A pairwise client's sector ---------------------------------------------------------------


@pytest.mark.parametrize("grant", [DEVICE_CODE, "client_credentials"])
def test_pairwise_needs_every_grant_to_reach_the_redirect_uris(client, db, mode, grant):
    mode("open", REGISTRATION_GRANT_TYPES=["authorization_code", "refresh_token", grant])
    document = {
        **WEB_APP,
        # Another client's host: with this grant it never has to receive anything there.
        "redirect_uris": ["https://victim.example/callback"],
        "grant_types": ["authorization_code", grant],
        "subject_type": "pairwise",
    }
    error, description = error_of(post_json(client, document))
    assert error == "invalid_client_metadata"
    assert description.startswith(f"subject_type: pairwise is not available with the {grant}")
    assert nothing_written()
    # Public subjects with that grant, or pairwise with the code grant, are fine.
    assert post_json(client, {**document, "subject_type": "public"}).status_code == 201
    pairwise = {**document, "grant_types": ["authorization_code", "refresh_token"]}
    assert post_json(client, pairwise).status_code == 201


def test_an_update_cannot_turn_pairwise_on_with_the_device_grant(client, initial_token):
    device_app = {**WEB_APP, "grant_types": ["authorization_code", DEVICE_CODE]}
    registered = register(client, device_app, initial_token)
    _error, description = error_of(
        update(client, registered, {**device_app, "subject_type": "pairwise"})
    )
    assert description.startswith("subject_type:")
    assert Client.objects.get(client_id=registered["client_id"]).subject_type == "public"


def test_a_sector_staff_set_is_the_clients_sector(client, initial_token):
    """With a sector identifier URI (only staff set one) the redirect URIs do not name
    the sector: nothing to take over."""
    device_app = {**WEB_APP, "grant_types": ["authorization_code", DEVICE_CODE]}
    registered = register(client, device_app, initial_token)
    sector = "https://printer.example/sector.json"
    Client.objects.filter(client_id=registered["client_id"]).update(
        subject_type="pairwise", sector_identifier_uri=sector
    )
    document = {**device_app, "subject_type": "pairwise", "sector_identifier_uri": sector}
    assert update(client, registered, document).status_code == 200


# 3. Scopes -----------------------------------------------------------------------------------


def test_a_client_asking_for_no_scope_gets_todays_scopes_by_name(client, initial_token, settings):
    body = register(client, {**WEB_APP, "scope": None}, initial_token)
    stored = Client.objects.get(client_id=body["client_id"])
    assert stored.allowed_scopes == list_to_scope(known_scopes()) != ""
    # A scope the server adds later is not the registered client's.
    scopes = {**settings.OAUTHFLOW["SCOPES"], "admin": "Administer everything"}
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SCOPES": scopes}
    stored.refresh_from_db()
    assert "admin" in known_scopes() and "admin" not in stored.allowed_scopes.split()


def test_registration_scopes_are_stored_by_name(client, db, mode):
    mode("open", REGISTRATION_SCOPES=["read", "openid"])
    body = register(client, {**NATIVE_APP})
    assert Client.objects.get(client_id=body["client_id"]).allowed_scopes == "read openid"


def test_no_scope_to_give_refuses_rather_than_give_every_scope(client, db, mode):
    mode("open", REGISTRATION_SCOPES=[])
    _error, description = error_of(post_json(client, NATIVE_APP))
    assert description.startswith("scope:")
    assert nothing_written()


def e016(settings, **values) -> list[str]:
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, **values}
    return [m.msg for m in check_settings() if m.id == "oauthflow.E016"]


def test_e016_refuses_an_empty_list_of_registration_scopes(settings):
    assert len(e016(settings, REGISTRATION_SCOPES=[])) == 1
    assert e016(settings, REGISTRATION_SCOPES=None) == []


def test_e016_knows_the_scopes_capabilities_add(settings):
    # openid comes with oauthflow.oidc, not from SCOPES.
    assert "openid" not in settings.OAUTHFLOW["SCOPES"]
    assert e016(settings, REGISTRATION_SCOPES=["read", "openid", "email"]) == []
    assert len(e016(settings, REGISTRATION_SCOPES=["read", "admin"])) == 1


# 4. Secrets on error pages -------------------------------------------------------------------


@pytest.fixture
def kept(monkeypatch) -> dict:
    """The secrets the views make, as made; then describing the client fails, as any
    bug could, while they are in the views' locals."""
    made: dict[str, str] = {}
    set_secret = Client.set_secret
    new_token = guard.new_registration_access_token

    def recording_set_secret(self):
        made["secret"] = set_secret(self)
        return made["secret"]

    def recording_new_token():
        value, digest, hint = new_token()
        made["token"] = value
        return value, digest, hint

    def failing_describe(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Client, "set_secret", recording_set_secret)
    monkeypatch.setattr(guard, "new_registration_access_token", recording_new_token)
    monkeypatch.setattr(metadata, "describe", failing_describe)
    return made


def report(request, call) -> str:
    """What Django's error report (the 500 page, the admins' e-mail) shows."""
    with pytest.raises(RuntimeError):
        try:
            call()
        except RuntimeError:
            reporter = ExceptionReporter(request, *sys.exc_info())
            text = reporter.get_traceback_text() + reporter.get_traceback_html()
            data = reporter.get_traceback_data()
            raise
    frames = [(f["function"], f["vars"]) for f in data["frames"]]
    assert any(name == "register" or name == "manage" for name, _ in frames)
    return text + repr(frames)


def test_a_registration_error_report_shows_no_secret(db, with_tokens, initial_token, kept):
    request = RequestFactory().post(
        REGISTER,
        json.dumps(WEB_APP),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {initial_token}",
    )
    shown = report(request, lambda: views.register(request))
    assert kept["secret"] and kept["token"]
    for value in (initial_token, kept["secret"], kept["token"]):
        assert value not in shown


def test_an_update_error_report_shows_no_secret(client, registered, kept):
    token = registered["registration_access_token"]
    client_id = registered["client_id"]  # the lambda's frame holds only what it names
    # A client without a secret moves to client_secret_basic: it gets a new one.
    Client.objects.filter(client_id=registered["client_id"]).update(
        client_type=Client.PUBLIC,
        token_endpoint_auth_method="none",
        secret_digest="",
        secret_hint="",
    )
    document = {**WEB_APP, "client_id": registered["client_id"]}
    request = RequestFactory().put(
        path_of(registered["registration_client_uri"]),
        json.dumps(document),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    shown = report(request, lambda: views.manage(request, client_id))
    assert kept["secret"]
    for value in (token, kept["secret"]):
        assert value not in shown

    sent_back = {**WEB_APP, "client_id": registered["client_id"], "client_secret": kept["secret"]}
    request = RequestFactory().put(
        path_of(registered["registration_client_uri"]),
        json.dumps(sent_back),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # Then it sends that secret back in its document (RFC 7592 §2.2).
    shown = report(request, lambda: views.manage(request, client_id))
    for value in (token, kept["secret"]):
        assert value not in shown


# 5. An update cannot undo staff's hardening ---------------------------------------------------

HARDENING = ["dpop_bound_access_tokens", "require_pushed_authorization_requests"]


@pytest.mark.parametrize("member", HARDENING)
@pytest.mark.parametrize("sent", [False, None, "left out"])
def test_an_update_cannot_turn_hardening_off(client, registered, member, sent):
    Client.objects.filter(client_id=registered["client_id"]).update(**{member: True})
    document = {**WEB_APP} if sent == "left out" else {**WEB_APP, member: sent}
    response = update(client, registered, document)
    assert response.status_code == 200, response.content
    assert response.json()[member] is True
    assert getattr(Client.objects.get(client_id=registered["client_id"]), member) is True


@pytest.mark.parametrize("member", HARDENING)
def test_a_client_may_turn_hardening_on(client, registered, member):
    assert update(client, registered, {**WEB_APP, member: True}).status_code == 200
    assert getattr(Client.objects.get(client_id=registered["client_id"]), member) is True


# 6. An update writes only its own columns, on the row as it is now ----------------------------


def staff_meanwhile(monkeypatch, **changes):
    """Staff change the client between the token's check and the update's transaction."""
    checked = guard.registration_for

    def then_staff(request, client_id):
        registration = checked(request, client_id)
        Client.objects.filter(pk=registration.client.pk).update(**changes)
        return registration

    monkeypatch.setattr(guard, "registration_for", then_staff)


def test_an_update_keeps_what_staff_changed_meanwhile(client, registered, monkeypatch):
    staff_meanwhile(monkeypatch, may_introspect=True, skip_consent=True, default_scopes="read")
    response = update(client, registered, {**WEB_APP, "client_name": "Renamed"})
    assert response.status_code == 200, response.content
    stored = Client.objects.get(client_id=registered["client_id"])
    assert stored.name == "Renamed"
    assert stored.may_introspect and stored.skip_consent and stored.default_scopes == "read"


def test_an_update_of_a_client_deactivated_meanwhile_is_refused(client, registered, monkeypatch):
    staff_meanwhile(monkeypatch, is_active=False)
    response = update(client, registered, {**WEB_APP, "client_name": "Renamed"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    stored = Client.objects.get(client_id=registered["client_id"])
    assert stored.name == "Photo printer" and not stored.is_active


def test_an_update_of_a_registration_deleted_meanwhile_is_refused(client, registered, monkeypatch):
    checked = guard.registration_for

    def then_deleted(request, client_id):
        registration = checked(request, client_id)
        ClientRegistration.objects.filter(pk=registration.pk).delete()
        return registration

    monkeypatch.setattr(guard, "registration_for", then_deleted)
    response = update(client, registered, {**WEB_APP, "client_name": "Renamed"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert Client.objects.get(client_id=registered["client_id"]).name == "Photo printer"


# 7. What the consent page shows ----------------------------------------------------------------


@pytest.mark.parametrize("member", ["client_uri", "logo_uri", "jwks_uri", "backchannel_logout_uri"])
@pytest.mark.parametrize(
    "url",
    [
        "http://printer.example/page",
        "https://bank.example@printer.example/",
        "https://user:pass@printer.example/",
        "https://@printer.example/",
        "ftp://printer.example/",
        "https:///nohost",
    ],
)
def test_urls_are_https_without_user_information(client, initial_token, member, url):
    error, description = error_of(post_json(client, {**WEB_APP, member: url}, initial_token))
    assert error == "invalid_client_metadata"
    assert description.startswith(f"{member}:"), description
    assert "bank" not in description and "printer" not in description
    assert nothing_written()


@pytest.mark.parametrize("member", ["client_uri", "logo_uri"])
def test_consent_page_urls_may_be_http_to_this_machine_in_development(
    client, initial_token, settings, member
):
    document = {**WEB_APP, member: "http://127.0.0.1:8000/logo.png"}
    assert post_json(client, document, initial_token).status_code == 201
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}
    error_of(post_json(client, document, initial_token, secure=True))


@pytest.mark.parametrize(
    "character",
    [
        "\u00ad",  # soft hyphen
        "\u034f",
        "\u115f",
        "\u1160",
        "\u3164",
        "\uffa0",  # Hangul fillers: a name that looks blank
        "\u180e",
        "\u180b",
        "\u2060",
        "\u2065",
        "\u206f",
        "\ufe00",
        "\ufe0f",  # variation selectors
        "\U000e0000",
        "\U000e0041",
        "\U000e0100",
        "\U000e0fff",  # tags, variation selectors supplement
    ],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_a_name_with_an_invisible_character_is_refused(client, initial_token, character):
    document = {**WEB_APP, "client_name": f"Your{character} Bank"}
    _error, description = error_of(post_json(client, document, initial_token))
    assert description == "client_name: holds characters that are not allowed."
    assert nothing_written()


# 8. Answers that stay the endpoint's JSON -------------------------------------------------------


def test_a_body_too_large_without_a_length_is_a_json_400(db, mode, settings):
    """Chunked, on ASGI: no Content-Length, and Django refuses the body as it reads it."""
    mode("open")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({**NATIVE_APP, "padding": "x" * 20_000}).encode()
    assert len(body) < metadata.MAX_BODY  # Django's limit, not the endpoint's own
    scope = {
        "type": "http",
        "method": "POST",
        "path": REGISTER,
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 12345),
    }
    request = ASGIRequest(scope, BytesIO(body))
    assert "CONTENT_LENGTH" not in request.META
    response = views.register(request)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "error": "invalid_client_metadata",
        "error_description": "The registration request is too large.",
    }
    assert nothing_written()


def test_a_grant_type_the_server_does_not_serve_is_an_error(settings):
    from django.core import checks

    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "DYNAMIC_REGISTRATION": "initial_access_token",
        "REGISTRATION_GRANT_TYPES": ["client_credentials", "bogus"],
    }
    found = [m for m in checks.run_checks() if m.id == "oauthflow.E016"]
    assert found and "bogus" in found[0].msg


def test_the_default_grant_types_pass_without_the_device_app(settings, monkeypatch):
    # The default names the device grant; a site without oauthflow.device is fine.
    from django.core import checks

    from oauthflow.server.registry import registry

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DYNAMIC_REGISTRATION": "initial_access_token"}
    device = "urn:ietf:params:oauth:grant-type:device_code"
    served = [g for g in registry.grant_types() if g != device]
    monkeypatch.setattr(registry, "grant_types", lambda: served)
    assert "oauthflow.E016" not in [m.id for m in checks.run_checks()]
