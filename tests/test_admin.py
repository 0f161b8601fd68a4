"""The admin: pages render for staff and not for others, a secret is shown once, the
actions revoke through the store (oauthflow.store)."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from oauthflow import keys
from oauthflow.keys import encryption
from oauthflow.models import AccessToken, Client, Consent, Resource, SigningKey
from tests import factories

CLIENT_ADD = reverse("admin:oauthflow_client_add")
CLIENT_LIST = reverse("admin:oauthflow_client_changelist")


def client_change(client):
    return reverse("admin:oauthflow_client_change", args=[client.pk])


def client_form(**overrides):
    data = {
        "name": "Photo Printer",
        "client_type": "confidential",
        "is_active": "on",
        "owner": "",
        "redirect_uris": "https://printer.example.com/callback",
        "grant_types": ["authorization_code", "refresh_token"],
        "allowed_scopes": "read",
        "default_scopes": "",
        "homepage_url": "",
        "logo_url": "",
        "post_logout_redirect_uris": "",
        "backchannel_logout_uri": "",
        "id_token_signed_response_alg": "RS256",
        "subject_type": "public",
        "sector_identifier_uri": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def secret_on_page(response) -> str:
    html = response.content.decode()
    start = html.index('class="oauthflow-client-secret">') + len('class="oauthflow-client-secret">')
    return html[start : html.index("</code>", start)]


def assert_not_stored_anywhere(response, client, secret):
    """The clear secret is only in the page: not in a message, a cookie, the session,
    the admin history or any column."""
    assert secret not in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert all(secret not in morsel.value for morsel in client.cookies.values())
    assert all(secret not in str(v) for v in client.session.values())
    assert all(secret not in e.change_message for e in LogEntry.objects.all())
    assert all(secret not in str(v) for row in Client.objects.values_list() for v in row)


def action(client, url, name, pks, **extra):
    return client.post(url, {"action": name, "_selected_action": [str(pk) for pk in pks], **extra})


# Who may see the admin --------------------------------------------------------------------


ADMIN_PAGES = [
    "admin:oauthflow_client_changelist",
    "admin:oauthflow_client_add",
    "admin:oauthflow_authorizationcode_changelist",
    "admin:oauthflow_accesstoken_changelist",
    "admin:oauthflow_refreshtoken_changelist",
    "admin:oauthflow_consent_changelist",
    "admin:oauthflow_signingkey_changelist",
    "admin:oauthflow_resource_changelist",
    "admin:oauthflow_resource_add",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_pages_render_for_staff(admin_client, name):
    factories.AccessTokenFactory()
    factories.AuthorizationCodeFactory()
    factories.RefreshTokenFactory()
    factories.ConsentFactory()
    assert admin_client.get(reverse(name)).status_code == 200


def test_object_pages_render_for_staff(admin_client):
    rows = [
        factories.ClientFactory(),
        factories.AccessTokenFactory(),
        factories.AuthorizationCodeFactory(),
        factories.RefreshTokenFactory(rotated_from=factories.RefreshTokenFactory()),
        factories.ConsentFactory(),
        Resource.objects.create(identifier="https://api.example.com/", name="API"),
    ]
    for row in rows:
        url = reverse(f"admin:oauthflow_{row._meta.model_name}_change", args=[row.pk])
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_pages_refuse_a_user_who_is_not_staff(client, user, name):
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permissions_is_refused(client, db):
    staff = factories.UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    assert client.get(CLIENT_LIST).status_code == 403
    assert client.get(reverse("admin:oauthflow_accesstoken_changelist")).status_code == 403


# Client: add, change, secret shown once ---------------------------------------------------


def test_adding_a_confidential_client_shows_its_secret_once(admin_client):
    response = admin_client.post(CLIENT_ADD, client_form())
    assert response.status_code == 200
    assert "admin/oauthflow/client/secret.html" in [t.name for t in response.templates]
    assert "no-store" in response["Cache-Control"]
    client = Client.objects.get()
    secret = secret_on_page(response)
    assert client.check_client_secret(secret)
    assert client.client_id in response.content.decode()
    assert_not_stored_anywhere(response, admin_client, secret)

    # Afterwards the change page shows the hint, never the secret.
    page = admin_client.get(client_change(client)).content.decode()
    assert client.secret_hint in page
    assert secret not in page


def test_adding_a_public_client_redirects_as_usual(admin_client):
    response = admin_client.post(
        CLIENT_ADD,
        client_form(client_type="public", redirect_uris="http://127.0.0.1/callback"),
    )
    assert response.status_code == 302
    assert Client.objects.get().secret_digest == ""


def test_making_a_public_client_confidential_shows_its_new_secret(admin_client):
    client = factories.PublicClientFactory()
    response = admin_client.post(
        client_change(client),
        client_form(name=client.name, redirect_uris="https://app.example.com/cb"),
    )
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.check_client_secret(secret_on_page(response))


def test_saving_a_client_keeps_its_secret(admin_client):
    client = factories.ClientFactory()
    response = admin_client.post(client_change(client), client_form(name="Renamed"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Renamed"
    assert client.check_client_secret(client.secret)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"redirect_uris": "http://printer.example.com/cb"}, "must use https"),
        ({"redirect_uris": "https://printer.example.com/cb#x"}, "cannot have a fragment"),
        ({"redirect_uris": "https://*.example.com/cb"}, "Wildcards are not allowed"),
        ({"redirect_uris": ""}, "needs at least one redirect URI"),
        ({"grant_types": ["refresh_token"]}, "only issued with authorization_code"),
        ({"allowed_scopes": "admin"}, "Unknown scope(s): admin"),
        (
            {"client_type": "public", "redirect_uris": "http://127.0.0.1/cb"}
            | {"grant_types": ["client_credentials"]},
            "only for confidential clients",
        ),
    ],
)
def test_add_form_validates_through_the_model(admin_client, overrides, error):
    response = admin_client.post(CLIENT_ADD, client_form(**overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Client.objects.exists()


def test_unticking_active_revokes_the_clients_tokens(admin_client, revocations, committed):
    client = factories.ClientFactory()
    token = factories.AccessTokenFactory(client=client)
    with committed():
        response = admin_client.post(
            client_change(client), client_form(name=client.name, is_active=None)
        )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert [kw["by"] for kw in revocations] == ["admin"]


def test_client_list_filters_and_search(admin_client):
    factories.ClientFactory(name="Alpha")
    factories.PublicClientFactory(name="Beta")
    page = admin_client.get(CLIENT_LIST, {"client_type__exact": "public"}).content.decode()
    assert "Beta" in page and "Alpha" not in page
    page = admin_client.get(CLIENT_LIST, {"q": "alph"}).content.decode()
    assert "Alpha" in page and "Beta" not in page


# Client actions ---------------------------------------------------------------------------


def test_rotate_secret_asks_first(admin_client):
    client = factories.ClientFactory()
    response = action(admin_client, CLIENT_LIST, "rotate_secret", [client.pk])
    assert response.status_code == 200
    assert "admin/oauthflow/confirm_action.html" in [t.name for t in response.templates]
    client.refresh_from_db()
    assert client.check_client_secret(client.secret)  # unchanged until confirmed


def test_rotate_secret_shows_the_new_secrets_once(admin_client):
    first, second = factories.ClientFactory(), factories.ClientFactory()
    public = factories.PublicClientFactory()
    response = action(
        admin_client, CLIENT_LIST, "rotate_secret", [first.pk, second.pk, public.pk], post="yes"
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    shown = [
        html[i + len('class="oauthflow-client-secret">') :].split("</code>")[0]
        for i in range(len(html))
        if html.startswith('class="oauthflow-client-secret">', i)
    ]
    assert len(shown) == 2
    for client in (first, second):
        old = client.secret
        client.refresh_from_db()
        assert not client.check_client_secret(old)
        assert any(client.check_client_secret(s) for s in shown)
    for secret in shown:
        assert_not_stored_anywhere(response, admin_client, secret)
    assert any("public client" in str(m) for m in get_messages(response.wsgi_request))
    assert LogEntry.objects.filter(change_message="Rotated the client secret.").count() == 2


def test_rotating_only_public_clients_shows_no_secret_page(admin_client):
    public = factories.PublicClientFactory()
    response = action(admin_client, CLIENT_LIST, "rotate_secret", [public.pk], post="yes")
    assert response.status_code == 302


def test_revoke_tokens_action(admin_client, revocations, committed):
    client = factories.ClientFactory()
    mine = [
        factories.AccessTokenFactory(client=client),
        factories.RefreshTokenFactory(client=client),
    ]
    other = factories.AccessTokenFactory()
    assert action(admin_client, CLIENT_LIST, "revoke_tokens", [client.pk]).status_code == 200
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()

    with committed():
        response = action(admin_client, CLIENT_LIST, "revoke_tokens", [client.pk], post="yes")
    assert response.status_code == 302
    for row in mine:
        row.refresh_from_db()
        assert row.revoked_at is not None
    other.refresh_from_db()
    assert other.revoked_at is None
    client.refresh_from_db()
    assert client.is_active is True
    assert [(kw["by"], kw["client"]) for kw in revocations] == [("admin", client)]


def test_deactivate_action_deactivates_and_revokes(admin_client, revocations, committed):
    client = factories.ClientFactory()
    code = factories.AuthorizationCodeFactory(client=client)
    with committed():
        response = action(admin_client, CLIENT_LIST, "deactivate", [client.pk], post="yes")
    assert response.status_code == 302
    client.refresh_from_db()
    code.refresh_from_db()
    assert client.is_active is False
    assert code.revoked_at is not None
    assert [kw["by"] for kw in revocations] == ["admin"]


def test_deleting_a_client_revokes_then_deletes_what_it_holds(admin_client, revocations, committed):
    client = factories.ClientFactory()
    factories.AccessTokenFactory(client=client)
    factories.ConsentFactory(client=client)
    url = reverse("admin:oauthflow_client_delete", args=[client.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Access tokens: 1" in html and "Consents: 1" in html  # counted, not listed
    assert "permission" not in html
    with committed():
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Client.objects.exists()
    assert not AccessToken.objects.exists() and not Consent.objects.exists()
    assert [kw["by"] for kw in revocations] == ["admin"]


# Codes and tokens ---------------------------------------------------------------------------


CREDENTIAL_FACTORIES = [
    factories.AccessTokenFactory,
    factories.RefreshTokenFactory,
    factories.AuthorizationCodeFactory,
]


@pytest.mark.parametrize("factory", CREDENTIAL_FACTORIES)
def test_credentials_are_listed_by_hint_never_by_value_or_digest(admin_client, factory):
    row = factory()
    name = row._meta.model_name
    for url in (
        reverse(f"admin:oauthflow_{name}_changelist"),
        reverse(f"admin:oauthflow_{name}_change", args=[row.pk]),
    ):
        page = admin_client.get(url).content.decode()
        assert row.hint in page
        assert row.value not in page
        assert row.digest not in page


@pytest.mark.parametrize("factory", CREDENTIAL_FACTORIES)
def test_credentials_are_read_only(admin_client, factory):
    row = factory()
    name = row._meta.model_name
    assert admin_client.get(reverse(f"admin:oauthflow_{name}_add")).status_code == 403
    change = reverse(f"admin:oauthflow_{name}_change", args=[row.pk])
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"scope": "write"}).status_code == 403
    delete = reverse(f"admin:oauthflow_{name}_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.scope == "read"


@pytest.mark.parametrize("factory", CREDENTIAL_FACTORIES)
def test_revoke_selected_revokes_whole_families(admin_client, factory, revocations, committed):
    row = factory()
    sibling_token = factories.AccessTokenFactory(family=row.family, client=row.client)
    sibling_refresh = factories.RefreshTokenFactory(family=row.family, client=row.client)
    unrelated = factories.AccessTokenFactory()
    url = reverse(f"admin:oauthflow_{row._meta.model_name}_changelist")
    with committed():
        response = action(admin_client, url, "revoke_selected", [row.pk])
    assert response.status_code == 302
    for revoked in (row, sibling_token, sibling_refresh):
        revoked.refresh_from_db()
        assert revoked.revoked_at is not None
    unrelated.refresh_from_db()
    assert unrelated.revoked_at is None
    assert [(kw["by"], kw["family"]) for kw in revocations] == [("admin", row.family)]


def test_revoke_selected_revokes_each_family_once(admin_client, revocations, committed):
    first = factories.AccessTokenFactory()
    second = factories.AccessTokenFactory(family=first.family, client=first.client)
    url = reverse("admin:oauthflow_accesstoken_changelist")
    with committed():
        action(admin_client, url, "revoke_selected", [first.pk, second.pk])
    assert len(revocations) == 1


def test_staff_with_view_permission_only_cannot_revoke(client, db):
    from django.contrib.auth.models import Permission

    staff = factories.UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_accesstoken", content_type__app_label="oauthflow")
    )
    client.force_login(staff)
    token = factories.AccessTokenFactory()
    url = reverse("admin:oauthflow_accesstoken_changelist")
    assert client.get(url).status_code == 200
    action(client, url, "revoke_selected", [token.pk])
    token.refresh_from_db()
    assert token.revoked_at is None


def test_status_and_family_filters(admin_client):
    active = factories.AccessTokenFactory()
    revoked = factories.AccessTokenFactory(revoked_at=active.created_at)
    url = reverse("admin:oauthflow_accesstoken_changelist")
    page = admin_client.get(url, {"status": "revoked"}).content.decode()
    assert revoked.hint in page and active.hint not in page
    page = admin_client.get(url, {"status": "active"}).content.decode()
    assert active.hint in page and revoked.hint not in page
    page = admin_client.get(url, {"family": str(active.family)}).content.decode()
    assert active.hint in page and revoked.hint not in page


def test_used_filter_finds_rotated_refresh_tokens(admin_client):
    rotated = factories.RefreshTokenFactory(rotated_at=factories.RefreshTokenFactory().created_at)
    fresh = factories.RefreshTokenFactory()
    url = reverse("admin:oauthflow_refreshtoken_changelist")
    page = admin_client.get(url, {"status": "used"}).content.decode()
    assert rotated.hint in page and fresh.hint not in page


# Consents ---------------------------------------------------------------------------------


CONSENT_LIST = reverse("admin:oauthflow_consent_changelist")


def test_consents_are_listed_and_searchable(admin_client):
    alice = factories.ConsentFactory(user=factories.UserFactory(username="alice"))
    factories.ConsentFactory(user=factories.UserFactory(username="bob"))
    page = admin_client.get(CONSENT_LIST, {"q": "alice"}).content.decode()
    assert "alice" in page and "bob" not in page
    assert alice.client.name in page


def test_revoking_a_consent_removes_it_and_revokes_the_pairs_tokens(
    admin_client, revocations, committed
):
    consent = factories.ConsentFactory()
    token = factories.AccessTokenFactory(client=consent.client, user=consent.user)
    code = factories.AuthorizationCodeFactory(client=consent.client, user=consent.user)
    same_client_other_user = factories.AccessTokenFactory(client=consent.client)
    with committed():
        response = action(admin_client, CONSENT_LIST, "revoke_selected", [consent.pk])
    assert response.status_code == 302
    assert not Consent.objects.exists()
    for row in (token, code):
        row.refresh_from_db()
        assert row.revoked_at is not None
    same_client_other_user.refresh_from_db()
    assert same_client_other_user.revoked_at is None
    assert [(kw["by"], kw["user"]) for kw in revocations] == [("admin", consent.user)]


def test_consents_cannot_be_edited_or_deleted_directly(admin_client):
    consent = factories.ConsentFactory()
    change = reverse("admin:oauthflow_consent_change", args=[consent.pk])
    assert admin_client.post(change, {"scope": "read write"}).status_code == 403
    delete = reverse("admin:oauthflow_consent_delete", args=[consent.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Consent.objects.filter(scope="read").exists()


# The trust fields need their own permission --------------------------------------------


def staff_with(client, *codenames):
    from django.contrib.auth.models import Permission

    staff = factories.UserFactory(username="staff", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(staff)
    return staff


def test_change_client_alone_cannot_touch_the_trust_fields(client, db):
    staff_with(client, "view_client", "change_client")
    app = factories.ClientFactory(name="Printer")
    response = client.post(
        client_change(app),
        client_form(
            name="Printer renamed",
            redirect_uris="https://attacker.example/cb",
            skip_consent="on",
            may_introspect="on",
        ),
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.name == "Printer renamed"  # the other fields save as before
    assert app.redirect_uri_list == ["https://client.example.com/callback"]
    assert app.skip_consent is False and app.may_introspect is False
    page = client.get(client_change(app)).content.decode()
    assert 'name="redirect_uris"' not in page and 'name="skip_consent"' not in page


def test_the_trust_permission_unlocks_them(client, db):
    staff_with(client, "view_client", "change_client", "change_client_trust")
    app = factories.ClientFactory(name="Printer")
    client.post(
        client_change(app),
        client_form(name="Printer", redirect_uris="https://printer.example/cb", skip_consent="on"),
    )
    app.refresh_from_db()
    assert app.redirect_uri_list == ["https://printer.example/cb"] and app.skip_consent


def test_a_model_error_on_a_read_only_field_is_shown_not_a_500(rf, db):
    """Client.clean() may blame a field the form leaves out for staff without the trust
    permission: the form shows the error instead of raising."""
    from django.contrib.admin.sites import site

    from oauthflow.admin import ClientAdmin

    staff = factories.UserFactory(username="staff", is_staff=True)
    request = rf.get("/")
    request.user = staff
    app = factories.ClientFactory(redirect_uris="")  # authorization_code without a URI
    form_class = ClientAdmin(Client, site).get_form(request, app)
    assert "redirect_uris" not in form_class.base_fields
    data = client_form(name="Printer")
    data.pop("redirect_uris")
    form = form_class(data, instance=app)
    assert not form.is_valid()
    assert "Redirect URIs: The authorization_code grant needs" in str(form.non_field_errors())


def test_change_client_alone_cannot_widen_a_client_or_take_its_secret(client, db):
    staff_with(client, "view_client", "change_client")
    app = factories.ClientFactory(name="Printer", allowed_scopes="read", skip_consent=True)
    client.post(
        client_change(app),
        client_form(
            name="Printer",
            allowed_scopes="read write",
            grant_types=["authorization_code", "refresh_token", "client_credentials"],
            client_type="public",
        ),
    )
    app.refresh_from_db()
    assert app.allowed_scopes == "read" and app.is_confidential
    assert "client_credentials" not in app.grant_type_list
    old_digest = app.secret_digest
    action(client, CLIENT_LIST, "rotate_secret", [app.pk], post="yes")
    app.refresh_from_db()
    assert app.secret_digest == old_digest


def test_the_add_form_ticks_the_default_grant_types(admin_client):
    page = admin_client.get(CLIENT_ADD).content.decode()
    for grant in ("authorization_code", "refresh_token"):
        assert re.search(rf'value="{grant}"[^>]*checked', page), grant
    assert not re.search(r'value="client_credentials"[^>]*checked', page)


def test_a_client_with_no_grant_is_refused_unless_it_introspects(admin_client):
    response = admin_client.post(CLIENT_ADD, client_form(grant_types=[], redirect_uris=""))
    assert response.status_code == 200
    assert "Choose at least one grant type" in response.content.decode()
    assert not Client.objects.exists()
    resource_server = client_form(grant_types=[], redirect_uris="", may_introspect="on")
    assert admin_client.post(CLIENT_ADD, resource_server).status_code == 200  # secret page
    assert Client.objects.get().may_introspect


# OpenID Connect fields of a client --------------------------------------------------------


OIDC_FIELDS = [
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "id_token_signed_response_alg",
    "subject_type",
    "sector_identifier_uri",
]


def test_the_client_form_has_an_openid_connect_fieldset(admin_client):
    html = admin_client.get(CLIENT_ADD).content.decode()
    fieldset = html[html.index("<h2") :]
    fieldset = fieldset[fieldset.index("OpenID Connect") :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    for name in OIDC_FIELDS:
        assert f'name="{name}"' in fieldset, name


def test_adding_a_client_with_openid_connect_settings(admin_client):
    response = admin_client.post(
        CLIENT_ADD,
        client_form(
            post_logout_redirect_uris="https://printer.example.com/bye\nhttps://printer.example.com/x",
            backchannel_logout_uri="https://printer.example.com/backchannel",
            id_token_signed_response_alg="ES256",
            subject_type="pairwise",
            sector_identifier_uri="printer.example.com/sector.json",  # https assumed
        ),
    )
    assert response.status_code == 200  # the secret page
    client = Client.objects.get()
    assert client.post_logout_redirect_uris.split() == [
        "https://printer.example.com/bye",
        "https://printer.example.com/x",
    ]
    assert client.backchannel_logout_uri == "https://printer.example.com/backchannel"
    assert client.id_token_signed_response_alg == "ES256"
    assert client.subject_type == "pairwise"
    assert client.sector_identifier_uri == "https://printer.example.com/sector.json"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"post_logout_redirect_uris": "http://printer.example.com/bye"}, "must use https"),
        ({"post_logout_redirect_uris": "https://printer.example.com/#x"}, "fragment"),
        (
            {"backchannel_logout_uri": "https://a.example.com/1 https://a.example.com/2"},
            "Only one back-channel logout URI",
        ),
        ({"id_token_signed_response_alg": "none"}, "Select a valid choice"),
        (
            {
                "subject_type": "pairwise",
                "redirect_uris": "https://a.example.com/cb\nhttps://b.example.com/cb",
            },
            "needs a sector identifier URI",
        ),
        ({"sector_identifier_uri": "http://a.example.com/s.json"}, "must use https"),
    ],
)
def test_openid_connect_fields_are_validated_through_the_model(admin_client, overrides, error):
    response = admin_client.post(CLIENT_ADD, client_form(**overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Client.objects.exists()


def test_change_client_alone_cannot_touch_the_logout_uris_or_the_subject(client, db):
    staff_with(client, "view_client", "change_client")
    app = factories.ClientFactory(name="Printer")
    response = client.post(
        client_change(app),
        client_form(
            name="Printer",
            post_logout_redirect_uris="https://attacker.example/bye",
            backchannel_logout_uri="https://attacker.example/logout",
            subject_type="pairwise",
            sector_identifier_uri="https://attacker.example/sector.json",
            id_token_signed_response_alg="ES256",  # no trust in it: allowed
        ),
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.post_logout_redirect_uris == "" and app.backchannel_logout_uri == ""
    assert app.subject_type == "public" and app.sector_identifier_uri == ""
    assert app.id_token_signed_response_alg == "ES256"
    page = client.get(client_change(app)).content.decode()
    for name in ("post_logout_redirect_uris", "backchannel_logout_uri", "subject_type"):
        assert f'name="{name}"' not in page, name
    assert 'name="id_token_signed_response_alg"' in page


def test_the_trust_permission_unlocks_the_logout_uris(client, db):
    staff_with(client, "view_client", "change_client", "change_client_trust")
    app = factories.ClientFactory(name="Printer")
    client.post(
        client_change(app),
        client_form(
            name="Printer",
            redirect_uris=app.redirect_uris,
            post_logout_redirect_uris="https://client.example.com/bye",
            backchannel_logout_uri="https://client.example.com/logout",
            subject_type="pairwise",
        ),
    )
    app.refresh_from_db()
    assert app.post_logout_redirect_uris == "https://client.example.com/bye"
    assert app.backchannel_logout_uri == "https://client.example.com/logout"
    assert app.subject_type == "pairwise"


def test_staff_without_the_trust_permission_may_set_logout_uris_on_a_new_client(client, db):
    staff_with(client, "view_client", "add_client", "change_client")
    response = client.post(
        CLIENT_ADD,
        client_form(
            post_logout_redirect_uris="https://printer.example.com/bye",
            backchannel_logout_uri="https://printer.example.com/logout",
        ),
    )
    assert response.status_code == 200  # the secret page
    app = Client.objects.get()
    assert app.post_logout_redirect_uris == "https://printer.example.com/bye"
    assert app.backchannel_logout_uri == "https://printer.example.com/logout"


# Signing keys -------------------------------------------------------------------------------


KEY_LIST = reverse("admin:oauthflow_signingkey_changelist")


def key_change(key):
    return reverse("admin:oauthflow_signingkey_change", args=[key.pk])


@pytest.fixture
def rotated(db):
    """An RS256 key superseded ten minutes ago by the signing one, and a pending ES256 key."""
    now = timezone.now()
    old = keys.create_key("RS256", signs_from=now - timedelta(hours=10))
    current = keys.create_key("RS256", signs_from=now - timedelta(minutes=10))
    waiting = keys.create_key("ES256", signs_from=now + timedelta(hours=1))
    return old, current, waiting


def test_signing_keys_are_listed_with_their_state(admin_client, rotated):
    old, current, waiting = rotated
    html = admin_client.get(KEY_LIST).content.decode()
    rows = {key.kid: html[html.index(key.kid) :].split("</tr>")[0] for key in rotated}
    assert "superseded" in rows[old.kid]
    assert "signing" in rows[current.kid] and "while in use" in rows[current.kid]
    assert "pending" in rows[waiting.kid] and "ES256" in rows[waiting.kid]
    # Published until ID_TOKEN_LIFETIME (and a minute) after the current key took over.
    [state] = [s for s in keys.key_states() if s.key.pk == old.pk]
    assert state.published_until is not None
    shown = date_format(timezone.localtime(state.published_until), "SHORT_DATETIME_FORMAT")
    assert shown in rows[old.kid]


def test_no_page_shows_a_private_key_even_encrypted(admin_client, rotated):
    for key in rotated:
        private = json.loads(encryption.decrypt(key.private_jwk_encrypted))
        for url in (KEY_LIST, key_change(key)):
            html = admin_client.get(url).content.decode()
            assert key.kid in html
            assert key.private_jwk_encrypted not in html
            assert private["d"] not in html
            assert "private_jwk_encrypted" not in html
        change = admin_client.get(key_change(key)).content.decode()
        assert key.public_jwk["x" if key.alg == "ES256" else "n"] in change  # public: shown


def test_signing_keys_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, rotated):
    old = rotated[0]
    assert admin_client.get(reverse("admin:oauthflow_signingkey_add")).status_code == 403
    change = key_change(old)
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert (
        admin_client.post(change, {"alg": "ES256", "signs_from": "2000-01-01"}).status_code == 403
    )
    delete = reverse("admin:oauthflow_signingkey_delete", args=[old.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    response = action(admin_client, KEY_LIST, "delete_selected", [old.pk], post="yes")
    assert SigningKey.objects.filter(pk=old.pk, alg="RS256").exists()
    assert "delete_selected" not in admin_client.get(KEY_LIST).content.decode()
    assert response.status_code in (200, 302)


def test_staff_need_the_view_permission_for_signing_keys(client, rotated):
    staff = staff_with(client, "view_client")
    assert client.get(KEY_LIST).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_signingkey"))
    assert client.get(KEY_LIST).status_code == 200


# Resources (APIs) ---------------------------------------------------------------------------


RESOURCE_ADD = reverse("admin:oauthflow_resource_add")
RESOURCE_LIST = reverse("admin:oauthflow_resource_changelist")
API = "https://api.example.com/"


def resource_change(resource):
    return reverse("admin:oauthflow_resource_change", args=[resource.pk])


def resource_form(**overrides):
    data = {
        "identifier": API,
        "name": "Billing API",
        "is_active": "on",
        "token_format": "jwt",
        "signing_alg": "RS256",
        "access_token_lifetime": "",
        "scopes": "read",
        "_save": "Save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_adding_a_resource(admin_client):
    response = admin_client.post(RESOURCE_ADD, resource_form(access_token_lifetime="120"))
    assert response.status_code == 302
    resource = Resource.objects.get()
    assert (resource.identifier, resource.name, resource.scopes) == (API, "Billing API", "read")
    assert (resource.token_format, resource.access_token_lifetime) == ("jwt", 120)
    assert resource.is_active


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"identifier": "api.example.com"}, "A resource identifier is an absolute URI"),
        ({"identifier": "https://api.example.com/#x"}, "without a fragment"),
        ({"identifier": "https://api.example.com/a b"}, "printable ASCII without spaces"),
        # urlsplit() raises on it: a form error, not a 500.
        ({"identifier": "https://[::1/"}, "A resource identifier is an absolute URI"),
        ({"name": ""}, "This field is required."),
        ({"scopes": 'read say"hi'}, "Invalid scope name(s)"),
        ({"access_token_lifetime": "0"}, "greater than or equal to 1"),
        ({"access_token_lifetime": "86401"}, "less than or equal to 86400"),
        ({"token_format": "paseto"}, "Select a valid choice"),
    ],
)
def test_the_resource_form_validates_through_the_model(admin_client, overrides, error):
    response = admin_client.post(RESOURCE_ADD, resource_form(**overrides))
    assert response.status_code == 200
    assert error in response.content.decode().replace("&quot;", '"')
    assert not Resource.objects.exists()


def test_the_lifetime_bounds_are_those_of_the_lifetime_settings():
    from oauthflow.admin import ResourceAdminForm
    from oauthflow.settings import SETTINGS

    field = ResourceAdminForm.base_fields["access_token_lifetime"]
    for name in ("ACCESS_TOKEN_LIFETIME", "JWT_ACCESS_TOKEN_LIFETIME"):
        [setting] = [s for s in SETTINGS if s.name == name]
        assert setting.bounds == (field.min_value, field.max_value)


def test_a_resource_identifier_is_unique(admin_client):
    Resource.objects.create(identifier=API, name="First")
    response = admin_client.post(RESOURCE_ADD, resource_form(name="Second"))
    assert response.status_code == 200
    assert "Resource with this Identifier already exists." in response.content.decode()
    assert list(Resource.objects.values_list("name", flat=True)) == ["First"]


def test_the_resource_list(admin_client, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "JWT_ACCESS_TOKEN_LIFETIME": 240}
    jwt = Resource.objects.create(identifier=API, name="Billing", token_format="jwt")
    opaque = Resource.objects.create(
        identifier="https://photos.example.com/",
        name="Photos",
        access_token_lifetime=600,
        is_active=False,
    )
    for _ in range(2):
        factories.ClientFactory().resources.add(jwt)
    html = admin_client.get(RESOURCE_LIST).content.decode()
    rows = {}
    for resource in (jwt, opaque):
        row = html[html.index(f">{resource.identifier}<") :].split("</tr>")[0]
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows[resource.identifier] = [re.sub(r"<[^>]+>", "", c).strip() or c for c in cells]
    # name, token format, lifetime, active (an icon), number of clients
    name, token_format, lifetime, active, count = rows[API][:5]
    assert (name, token_format, lifetime, count) == (
        "Billing",
        "JWT (RFC 9068: checked by the API alone)",
        "240 (default)",
        "2",
    )
    assert 'alt="True"' in active
    name, token_format, lifetime, active, count = rows[opaque.identifier][:5]
    assert (name, lifetime, count) == ("Photos", "600", "0")
    assert 'alt="False"' in active


def test_the_resource_list_searches_and_filters(admin_client):
    Resource.objects.create(identifier=API, name="Billing", token_format="jwt")
    Resource.objects.create(identifier="https://photos.example.com/", name="Photos")
    page = admin_client.get(RESOURCE_LIST, {"q": "billing"}).content.decode()
    assert API in page and "photos.example.com" not in page
    page = admin_client.get(RESOURCE_LIST, {"q": "photos.example"}).content.decode()
    assert API not in page and "photos.example.com" in page
    page = admin_client.get(RESOURCE_LIST, {"token_format__exact": "opaque"}).content.decode()
    assert API not in page and "photos.example.com" in page
    page = admin_client.get(RESOURCE_LIST, {"o": "-6"}).content.decode()  # by client count
    assert API in page


def test_a_resources_identifier_is_fixed_once_made(admin_client):
    resource = Resource.objects.create(identifier=API, name="API")
    page = admin_client.get(resource_change(resource)).content.decode()
    assert 'name="identifier"' not in page and API in page
    response = admin_client.post(
        resource_change(resource),
        resource_form(identifier="https://elsewhere.example.com/", name="Renamed"),
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.identifier, resource.name) == (API, "Renamed")


def test_a_resource_page_lists_its_clients_but_does_not_change_them(admin_client):
    resource = Resource.objects.create(identifier=API, name="API")
    printer = factories.ClientFactory(name="Printer")
    printer.resources.add(resource)
    page = admin_client.get(resource_change(resource)).content.decode()
    assert f'<a href="{client_change(printer)}">Printer</a>' in page
    assert 'name="clients"' not in page
    other = factories.ClientFactory(name="Other")
    admin_client.post(resource_change(resource), resource_form(clients=[str(other.pk)]))
    assert list(resource.clients.all()) == [printer]
    empty = Resource.objects.create(identifier="https://empty.example.com/", name="Empty")
    assert "None yet" in admin_client.get(resource_change(empty)).content.decode()


def test_deleting_a_resource_keeps_its_clients(admin_client):
    resource = Resource.objects.create(identifier=API, name="API")
    printer = factories.ClientFactory()
    printer.resources.add(resource)
    url = reverse("admin:oauthflow_resource_delete", args=[resource.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Resource.objects.exists()
    assert Client.objects.filter(pk=printer.pk).exists() and not printer.resources.exists()


def test_staff_need_the_resource_permissions(client, db):
    staff = staff_with(client, "view_client")
    assert client.get(RESOURCE_LIST).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_resource"))
    assert client.get(RESOURCE_LIST).status_code == 200
    assert client.get(RESOURCE_ADD).status_code == 403
    client.post(RESOURCE_ADD, resource_form())
    assert not Resource.objects.exists()


# A client's resources ---------------------------------------------------------------------


@pytest.fixture
def apis(db):
    return [
        Resource.objects.create(identifier=API, name="Billing"),
        Resource.objects.create(identifier="https://photos.example.com/", name="Photos"),
    ]


def test_the_client_form_has_a_resources_fieldset(admin_client, apis):
    html = admin_client.get(CLIENT_ADD).content.decode()
    fieldset = html[html.index("Resources (APIs)") :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    assert 'name="resources"' in fieldset and "selectfilter" in fieldset  # filter_horizontal
    for resource in apis:
        assert f'value="{resource.pk}"' in fieldset and resource.identifier in fieldset


def test_adding_and_changing_a_clients_resources(admin_client, apis):
    billing, photos = apis
    response = admin_client.post(CLIENT_ADD, client_form(resources=[str(billing.pk)]))
    assert response.status_code == 200  # the secret page
    app = Client.objects.get()
    assert list(app.resources.all()) == [billing]
    admin_client.post(client_change(app), client_form(name=app.name, resources=[str(photos.pk)]))
    assert list(app.resources.all()) == [photos]


def test_change_client_alone_cannot_give_a_client_an_api(client, apis):
    billing, photos = apis
    staff_with(client, "view_client", "change_client")
    app = factories.ClientFactory(name="Printer")
    app.resources.add(billing)
    response = client.post(
        client_change(app),
        client_form(name="Printer renamed", resources=[str(billing.pk), str(photos.pk)]),
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.name == "Printer renamed"
    assert list(app.resources.all()) == [billing]  # unchanged, not emptied either
    page = client.get(client_change(app)).content.decode()
    assert 'name="resources"' not in page
    assert billing.identifier in page  # shown, read-only


def test_nor_on_a_new_client(client, apis):
    staff_with(client, "view_client", "add_client", "change_client")
    assert 'name="resources"' not in client.get(CLIENT_ADD).content.decode()
    response = client.post(CLIENT_ADD, client_form(resources=[str(apis[0].pk)]))
    assert response.status_code == 200  # the secret page
    assert not Client.objects.get().resources.exists()


def test_the_trust_permission_unlocks_the_resources(client, apis):
    _billing, photos = apis
    staff_with(client, "view_client", "change_client", "change_client_trust")
    app = factories.ClientFactory(name="Printer")
    client.post(
        client_change(app),
        client_form(name="Printer", redirect_uris=app.redirect_uris, resources=[str(photos.pk)]),
    )
    assert list(app.resources.all()) == [photos]
