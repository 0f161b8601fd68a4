"""oauthflow_import_dot against data django-oauth-toolkit wrote itself: every client keeps
its client_id and secret, every live sign-in keeps working, and nothing is written twice."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from oauthflow.dot.importer import Importer
from oauthflow.models import AccessToken, AuthorizationCode, Client, Consent, RefreshToken
from tests import factories
from tests.dot.conftest import REDIRECT_URI, import_dot
from tests.oauth_helpers import TOKEN, authorize_url, new_verifier, post_form, query_of
from tests.oauth_helpers import basic as basic_header

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
DotAccessToken = get_access_token_model()
DotGrant = get_grant_model()
DotRefreshToken = get_refresh_token_model()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": basic_header(client_id, secret)}


def our_token(http, data, **headers):
    """A request to oauthflow's token endpoint."""
    return post_form(http, TOKEN, data, **headers)


def table(report: str) -> dict[str, list[int]]:
    """The report's table: found, imported, already here, skipped, by kind."""
    rows = {}
    for line in report.splitlines():
        words = line.split()
        if len(words) >= 5 and all(w.isdigit() for w in words[-4:]):
            rows[" ".join(words[:-4])] = [int(w) for w in words[-4:]]
    return rows


def api(http, access_token):
    return http.get("/api/read/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def counts():
    return [m.objects.count() for m in (Client, RefreshToken, AccessToken, AuthorizationCode)]


@pytest.fixture
def printer(dot, user):
    """A confidential app (secret hashed by DOT) the user signed in to and refreshed once,
    with a second authorization started but not finished (a pending code)."""
    app = dot.application(
        "Photo printer",
        user=user,
        redirect_uris=f"{REDIRECT_URI} http://localhost:8000/cb",
    )
    first, _ = dot.sign_in(app)
    current = dot.token(app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    pending_verifier = new_verifier()
    pending_code = dot.authorize(app, verifier=pending_verifier)
    return {
        "app": app,
        "first": first,
        "current": current,
        "pending": (pending_code, pending_verifier),
    }


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(printer):
    report = import_dot()

    assert counts() == [0, 0, 0, 0] and Consent.objects.count() == 0
    assert "dry run: nothing written" in report
    assert "would import" in report


# DOT warns that it will refuse the password grant by default in its 4.0.
@pytest.mark.filterwarnings("ignore:The OAuth 2.0 resource owner password:DeprecationWarning")
def test_every_client_keeps_its_id_and_secret_and_every_sign_in_keeps_working(
    client, dot, user, printer
):
    robot = dot.application(
        "Nightly export",
        authorization_grant_type="client-credentials",
        redirect_uris="",
        hash_client_secret=False,
    )
    dot.token(robot, grant_type="client_credentials", scope="read")
    phone = dot.application(
        "Old phone app",
        client_type="public",
        authorization_grant_type="password",
        redirect_uris="",
    )
    phone_tokens = dot.token(
        phone, grant_type="password", username=user.username, password=PASSWORD
    )
    spa = dot.application(
        "Legacy SPA",
        client_type="public",
        authorization_grant_type="implicit",
        redirect_uris="http://127.0.0.1:9000/cb",
        skip_authorization=True,
    )

    report = import_dot("--commit", "--batch-size", "1")

    # Clients: same client_ids; what had to change is in the report.
    printer_client = Client.objects.get(client_id=printer["app"].client_id)
    assert printer_client.owner == user
    assert printer_client.redirect_uri_list == [REDIRECT_URI]
    assert printer_client.legacy_secret_hash == printer["app"].row.client_secret
    assert not printer_client.secret_digest
    assert printer_client.secret_hint == "(DOT hash)"
    robot_client = Client.objects.get(client_id=robot.client_id)
    assert robot_client.grant_type_list == ["client_credentials"]
    # DOT's DEFAULT_SCOPES, ["__all__"], spelt out: what a request naming none got there.
    assert robot_client.default_scopes == "read write"
    assert robot_client.secret_digest == hashlib.sha256(robot.secret.encode()).hexdigest()
    spa_client = Client.objects.get(client_id=spa.client_id)
    assert spa_client.skip_consent is False
    assert "localhost" in report and "redirect URI dropped" in report
    assert "implicit grant" in report and "password grant" in report
    assert "skip_authorization dropped" in report

    # An access token and its refresh token are one authorization: revoked together.
    [live_refresh] = RefreshToken.objects.filter(client=printer_client, rotated_at=None)
    live_access = AccessToken.objects.get(client=printer_client)
    assert live_access.family == live_refresh.family
    # The DOT access token in force works on oauthflow's API; the one DOT replaced does not.
    assert api(client, printer["current"]["access_token"]).status_code == 200
    assert api(client, printer["first"]["access_token"]).status_code == 401

    # The current refresh token refreshes, with the secret DOT hashed, which is then
    # stored as oauthflow stores secrets.
    app = printer["app"]
    refreshed = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert refreshed.status_code == 200, refreshed.content
    printer_client.refresh_from_db()
    assert printer_client.legacy_secret_hash == ""
    assert printer_client.secret_hint == "…" + app.secret[-4:]
    assert printer_client.check_client_secret(app.secret)
    again = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert again.status_code == 200, again.content
    assert api(client, again.json()["access_token"]).status_code == 200

    # The authorization DOT had started finishes at oauthflow's token endpoint.
    code, verifier = printer["pending"]
    redeemed = our_token(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        **basic(app.client_id, app.secret),
    )
    assert redeemed.status_code == 200, redeemed.content

    # The client-credentials client authenticates with the secret DOT kept in clear.
    issued = our_token(
        client, {"grant_type": "client_credentials"}, **basic(robot.client_id, robot.secret)
    )
    assert issued.status_code == 200, issued.content

    # The password-grant app's user stays signed in: its refresh token still refreshes.
    kept = our_token(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": phone_tokens["refresh_token"],
            "client_id": phone.client_id,
        },
    )
    assert kept.status_code == 200, kept.content


def test_replaying_a_refresh_token_dot_rotated_revokes_the_authorization(client, printer):
    import_dot("--commit")
    app = printer["app"]

    replayed = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["first"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )

    # Reuse (RFC 9700 §4.14.2): the thief's or the client's copy, the family dies.
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    current = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert current.status_code == 400
    assert api(client, printer["current"]["access_token"]).status_code == 401


def test_the_user_is_not_asked_again_for_what_they_allowed_in_dot(signed_in, user, printer):
    import_dot("--commit")

    consent = Consent.objects.get(user=user, client__client_id=printer["app"].client_id)
    assert consent.scope == "read"
    printer_client = Client.objects.get(client_id=printer["app"].client_id)
    response = signed_in.get(authorize_url(printer_client, verifier=new_verifier()))
    assert response.status_code == 302
    assert "code" in query_of(response["Location"])


def test_a_second_run_imports_nothing_new(printer):
    first = import_dot("--commit")
    before = counts()

    second = import_dot("--commit")

    assert counts() == before
    assert table(first)["refresh tokens"] == [2, 1, 0, 1]  # the one DOT rotated: skipped
    assert table(second)["refresh tokens"] == [2, 0, 1, 1]
    assert table(second)["clients"] == [1, 0, 1, 0]
    assert table(second)["consents"] == [1, 0, 1, 0]


def test_a_wrong_secret_is_refused_and_the_dot_hash_kept(client, printer):
    import_dot("--commit")
    app = printer["app"]

    response = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, "not-the-secret"),
    )

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert Client.objects.get(client_id=app.client_id).legacy_secret_hash == app.row.client_secret


def test_saving_an_imported_client_in_the_admin_keeps_its_secret(admin_client, printer):
    import_dot("--commit")
    imported = Client.objects.get(client_id=printer["app"].client_id)

    response = admin_client.post(
        reverse("admin:oauthflow_client_change", args=[imported.pk]),
        {
            "name": "Renamed printer",
            "client_type": "confidential",
            "is_active": "on",
            "owner": "",
            "redirect_uris": REDIRECT_URI,
            "grant_types": ["authorization_code", "refresh_token"],
            "allowed_scopes": "",
            "default_scopes": "",
            "homepage_url": "",
            "logo_url": "",
            "id_token_signed_response_alg": "RS256",
            "subject_type": "public",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.name == "Renamed printer"
    assert imported.check_client_secret(printer["app"].secret)


def test_a_dump_imports_the_same_as_the_tables(tmp_path, printer):
    dump = tmp_path / "dot.json"
    call_command("dumpdata", "oauth2_provider", "--natural-foreign", output=str(dump))

    report = import_dot("--dump", str(dump), "--refresh-token-expire-seconds", "0", "--commit")

    assert str(dump) in report
    assert counts() == [1, 2, 1, 1]  # refresh tokens: the live one, and the rotated one
    # The same rows from the tables: all already here (DOT deleted the replaced token).
    assert table(import_dot())["access tokens"] == [1, 0, 1, 0]


def test_tokens_dot_stored_only_as_checksums_are_imported(client, settings, dot, user):
    settings.OAUTH2_PROVIDER = {"COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True}
    app = dot.application("Hashed at rest", user=user)
    tokens, _ = dot.sign_in(app)
    assert DotAccessToken.objects.get().token == ""  # DOT kept only the checksum

    import_dot("--commit")

    assert api(client, tokens["access_token"]).status_code == 200
    refreshed = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert refreshed.status_code == 200, refreshed.content


def test_refresh_tokens_follow_dots_refresh_token_expiry(settings, dot, user):
    settings.OAUTH2_PROVIDER = {"REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    app = dot.application("Short lived", user=user)
    dot.sign_in(app)
    dot.sign_in(app)
    stale, live = DotAccessToken.objects.order_by("pk")
    stale.expires = timezone.now() - timedelta(hours=2)  # + 1 h: already past
    stale.save()

    report = import_dot("--commit")

    assert "1 refresh tokens: expired (DOT's REFRESH_TOKEN_EXPIRE_SECONDS)" in report
    [imported] = RefreshToken.objects.all()
    assert imported.expires_at == live.expires + timedelta(hours=1)


def test_scopes_are_reported_when_unknown_and_can_be_renamed(settings, dot, user):
    settings.OAUTH2_PROVIDER = {"SCOPES": {"read": "Read", "groups": "Your groups"}}
    app = dot.application("Directory", user=user)
    dot.sign_in(app, scope="read groups")

    # The refresh token and the access token hold it.
    assert "'groups' (2)" in import_dot("--default-scopes", "read")

    import_dot("--commit", "--scope", "groups=profile")
    assert set(AccessToken.objects.values_list("scope", flat=True)) == {"read profile"}
    assert set(RefreshToken.objects.values_list("scope", flat=True)) == {"read profile"}


def test_plain_pkce_codes_and_expired_rows_are_skipped(dot, user):
    app = dot.application("Pending", user=user)
    dot.authorize(app, verifier=new_verifier())
    dot.authorize(app, verifier=new_verifier())
    plain, expired = DotGrant.objects.order_by("pk")
    plain.code_challenge_method = "plain"
    plain.save()
    expired.expires = timezone.now() - timedelta(seconds=1)
    expired.save()

    report = import_dot("--commit")

    assert AuthorizationCode.objects.count() == 0
    assert "PKCE method 'plain'" in report
    assert "1 authorization codes: expired" in report


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "nonsense"], "--scope takes OLD=NEW"),
        (
            ["--dump", "/nonexistent/dot.json", "--refresh-token-expire-seconds", "0"],
            "Cannot read",
        ),
        (["--dump", "dot.json"], "needs --refresh-token-expire-seconds"),
        (["--users-by-pk"], "is for --dump"),
        (["--refresh-token-expire-seconds", "60"], "is for --dump"),
        (["--batch-size", "0"], "at least 1"),
    ],
)
def test_bad_arguments_are_refused(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("oauthflow_import_dot", *args)


@pytest.mark.urls("tests.dot.urls")
def test_clients_not_yet_updated_can_keep_dots_paths(client, printer):
    import_dot("--commit")
    app = printer["app"]

    response = post_form(
        client,
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )

    assert response.status_code == 200, response.content
    revoked = post_form(
        client,
        "/o/revoke_token/",
        {"token": response.json()["access_token"]},
        **basic(app.client_id, app.secret),
    )
    assert revoked.status_code == 200
    assert api(client, response.json()["access_token"]).status_code == 401


def test_a_secret_hashed_with_a_hasher_this_site_lacks_is_never_taken_for_a_clear_one(
    client, settings, dot
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher"]
    app = dot.application("Old hasher", authorization_grant_type="client-credentials")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    report = import_dot("--commit")

    imported = Client.objects.get(client_id=app.client_id)
    assert imported.legacy_secret_hash.startswith("scrypt$") and not imported.secret_digest
    assert "not in this site's PASSWORD_HASHERS" in report
    for secret in (app.secret, app.row.client_secret):  # neither the secret nor its hash
        response = our_token(
            client, {"grant_type": "client_credentials"}, **basic(app.client_id, secret)
        )
        assert response.status_code == 401


def test_a_secret_from_before_dot_hashed_them_is_imported_as_a_clear_secret(client, dot):
    app = dot.application("From DOT 1", authorization_grant_type="client-credentials")
    # Rows older than DOT 2 keep their clear secret until saved again.
    type(app.row).objects.filter(pk=app.row.pk).update(client_secret=app.secret)

    import_dot("--commit")

    imported = Client.objects.get(client_id=app.client_id)
    assert imported.legacy_secret_hash == ""
    response = our_token(
        client, {"grant_type": "client_credentials"}, **basic(app.client_id, app.secret)
    )
    assert response.status_code == 200, response.content


# What the review of the import found ----------------------------------------------------


def test_a_second_run_revokes_what_dot_rotated_since_the_first(client, dot, printer):
    import_dot("--commit")
    app = printer["app"]
    # DOT went on serving: it rotates the refresh token oauthflow imported.
    newer = dot.token(
        app, grant_type="refresh_token", refresh_token=printer["current"]["refresh_token"]
    )

    report = import_dot("--commit")

    assert "Revoked what an earlier run imported" in report
    assert "1 refresh tokens marked used" in report
    # DOT deleted the access token it replaced: revoked here too.
    assert api(client, printer["current"]["access_token"]).status_code == 401
    assert api(client, newer["access_token"]).status_code == 200
    fresh = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": newer["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert fresh.status_code == 200, fresh.content
    # The token DOT rotated is used here as well: presenting it is reuse.
    stale = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert stale.status_code == 400
    assert api(client, fresh.json()["access_token"]).status_code == 401


def test_a_token_refreshed_at_both_servers_between_runs_ends_the_authorization(
    client, dot, printer
):
    import_dot("--commit")
    app = printer["app"]
    here = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert here.status_code == 200
    there = dot.token(
        app, grant_type="refresh_token", refresh_token=printer["current"]["refresh_token"]
    )

    report = import_dot("--commit")

    # Two branches of one authorization: reuse, whichever copy was the thief's.
    assert "1 authorizations used at both DOT and oauthflow" in report
    assert api(client, here.json()["access_token"]).status_code == 401
    assert api(client, there["access_token"]).status_code == 401


def test_a_second_run_revokes_the_tokens_of_an_application_deleted_in_dot(client, printer):
    import_dot("--commit")
    printer["app"].row.delete()  # DOT deletes its tokens with it

    import_dot("--commit")

    assert api(client, printer["current"]["access_token"]).status_code == 401
    app = printer["app"]
    response = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(app.client_id, app.secret),
    )
    assert response.status_code == 400


def test_an_imported_client_edited_in_oauthflow_is_still_recognised(client, dot, printer):
    import_dot("--commit")
    Client.objects.update(owner=None, name="Renamed here")
    newer = dot.token(
        printer["app"],
        grant_type="refresh_token",
        refresh_token=printer["current"]["refresh_token"],
    )

    report = import_dot("--commit")

    assert table(report)["clients"] == [1, 0, 1, 0]
    assert api(client, newer["access_token"]).status_code == 200


def test_a_redeemed_code_stays_reuse_evidence_after_a_second_run(client, printer):
    import_dot("--commit")
    app = printer["app"]
    code, verifier = printer["pending"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    issued = our_token(client, data, **basic(app.client_id, app.secret))
    assert issued.status_code == 200
    DotGrant.objects.all().delete()  # as DOT does when a code is redeemed there

    import_dot("--commit")

    replay = our_token(client, data, **basic(app.client_id, app.secret))
    assert replay.status_code == 400
    # Replaying a code revokes what it issued (RFC 6749 §4.1.2).
    assert api(client, issued.json()["access_token"]).status_code == 401


def test_a_hash_left_after_hash_client_secret_was_turned_off_stays_a_hash(client, dot):
    app = dot.application("Toggled", authorization_grant_type="client-credentials")
    type(app.row).objects.filter(pk=app.row.pk).update(hash_client_secret=False)

    import_dot("--commit")

    for secret, status in ((app.secret, 200), (app.row.client_secret, 401)):
        response = our_token(
            client, {"grant_type": "client_credentials"}, **basic(app.client_id, secret)
        )
        assert response.status_code == status, secret


def test_a_dumped_token_whose_user_is_not_here_is_skipped(tmp_path, user, printer):
    dump = tmp_path / "dot.json"
    call_command("dumpdata", "oauth2_provider", "--natural-foreign", output=str(dump))
    user.username = "someone-else"  # the dump's "alice" is nobody here
    user.save()

    report = import_dot("--dump", str(dump), "--refresh-token-expire-seconds", "0", "--commit")

    assert AccessToken.objects.count() == RefreshToken.objects.count() == 0
    assert AuthorizationCode.objects.count() == 0
    assert "its user was not found" in report


def test_a_dump_naming_users_by_primary_key_needs_users_by_pk(tmp_path, printer):
    dump = tmp_path / "dot.json"
    call_command("dumpdata", "oauth2_provider", output=str(dump))
    args = ("--dump", str(dump), "--refresh-token-expire-seconds", "0")

    with pytest.raises(CommandError, match="--natural-foreign"):
        import_dot(*args)
    assert "would import" in import_dot(*args, "--users-by-pk")


def test_a_client_id_taken_by_another_client_gets_none_of_the_tokens(client, user, printer):
    other = factories.UserFactory(username="mallory")
    theirs = factories.ClientFactory(
        client_id=printer["app"].client_id,
        owner=other,
        created_at=printer["app"].row.created - timedelta(hours=1),
    )

    report = import_dot("--commit")

    assert "same client_id that was not imported from it" in report
    assert not AccessToken.objects.exists() and not Consent.objects.exists()
    response = our_token(
        client,
        {"grant_type": "refresh_token", "refresh_token": printer["current"]["refresh_token"]},
        **basic(theirs.client_id, theirs.secret),
    )
    assert response.status_code == 400


def test_tokens_restricted_to_a_resource_are_not_imported(dot, user):
    app = dot.application("One API only", user=user)
    dot.sign_in(app)
    DotAccessToken.objects.update(resource=["https://other-api.example/"])

    report = import_dot("--commit")

    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    assert "restricted to a resource (RFC 8707)" in report


def test_an_interrupted_run_finished_later_keeps_each_authorization_one_family(
    monkeypatch, dot, user
):
    app = dot.application("Interrupted", user=user)
    dot.sign_in(app)
    # Rows from before DOT 3 have no token_family.
    DotRefreshToken.objects.update(token_family=None)

    def crash(self):
        raise RuntimeError("interrupted")

    with monkeypatch.context() as patch:
        patch.setattr(Importer, "_import_access_tokens", crash)
        with pytest.raises(RuntimeError):
            import_dot("--commit")
    assert RefreshToken.objects.count() == 1 and AccessToken.objects.count() == 0

    import_dot("--commit")

    assert AccessToken.objects.get().family == RefreshToken.objects.get().family


def test_a_short_dot_secret_keeps_its_slow_hash(client, dot):
    app = dot.application(
        "Short secret", secret="hunter2-hunter2", authorization_grant_type="client-credentials"
    )
    import_dot("--commit")

    for _ in range(2):
        response = our_token(
            client, {"grant_type": "client_credentials"}, **basic(app.client_id, app.secret)
        )
        assert response.status_code == 200, response.content
    assert Client.objects.get(client_id=app.client_id).legacy_secret_hash == app.row.client_secret


def test_rotating_an_imported_secret_ends_the_dot_hash(capsys, printer):
    import_dot("--commit")
    imported = Client.objects.get(client_id=printer["app"].client_id)

    call_command("oauthflow_client", "rotate-secret", imported.client_id)

    imported.refresh_from_db()
    assert imported.legacy_secret_hash == ""
    assert not imported.check_client_secret(printer["app"].secret)


def test_a_rotation_racing_the_first_sign_in_wins(printer):
    import_dot("--commit")
    stale = Client.objects.get(client_id=printer["app"].client_id)  # read before...
    rotated = Client.objects.get(pk=stale.pk)
    rotated.set_secret()
    rotated.save(update_fields=Client.SECRET_FIELDS)  # ...a rotation lands

    assert stale.check_client_secret(printer["app"].secret) is False


def test_a_client_id_too_long_for_oauthflow_is_reported(dot):
    dot.application("Metadata document client", client_id="https://app.example/" + "c" * 120)

    report = import_dot("--commit")

    assert not Client.objects.exists()
    assert "a client_id longer than 100 characters" in report


def test_a_clear_secret_with_a_dollar_sign_is_not_taken_for_a_hash(client, dot):
    app = dot.application(
        "Dollar",
        secret="price$is-right-0123456789-0123456789",
        authorization_grant_type="client-credentials",
        hash_client_secret=False,
    )

    import_dot("--commit")

    response = our_token(
        client, {"grant_type": "client_credentials"}, **basic(app.client_id, app.secret)
    )
    assert response.status_code == 200, response.content
