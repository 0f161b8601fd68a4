"""Scope permissions: each class, composition with & and |, and the 403 challenge."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from tests import factories
from tests.conftest import bearer


def insufficient(scope):
    return (
        'Bearer realm="api", error="insufficient_scope", '
        f'error_description="The access token lacks a required scope.", scope="{scope}"'
    )


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make(db, user, client_app):
    def make(scope, **kwargs):
        kwargs.setdefault("user", user)
        return factories.AccessTokenFactory(client=client_app, scope=scope, **kwargs).value

    return make


# TokenHasScope


def test_token_with_scope_passes(api, make):
    assert api.get("/api/read/", **bearer(make("read"))).status_code == 200


def test_token_without_scope_is_403_with_insufficient_scope_challenge(api, make):
    response = api.get("/api/read/", **bearer(make("profile")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read")
    assert response.json() == {"detail": "The access token lacks a required scope."}


def test_every_required_scope_is_needed(api, make):
    assert api.get("/api/read-profile/", **bearer(make("read profile write"))).status_code == 200
    response = api.get("/api/read-profile/", **bearer(make("read")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read profile")


def test_empty_required_scopes_accept_any_valid_token(api, make):
    assert api.get("/api/any-token/", **bearer(make(""))).status_code == 200
    assert api.get("/api/any-token/").status_code == 401


def test_missing_required_scopes_is_improperly_configured(api, make):
    with pytest.raises(ImproperlyConfigured, match="required_scopes"):
        api.get("/api/misconfigured/", **bearer(make("read")))


def test_session_user_without_token_is_refused_by_token_has_scope(user, db):
    api = APIClient()
    api.force_login(user)
    response = api.get("/api/session-first/")
    # Authenticated, but not by a token: a plain 403, no challenge to meet.
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


# TokenHasReadWriteScope


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_need_read_scope(api, make, method):
    assert getattr(api, method)("/api/read-write/", **bearer(make("read"))).status_code == 200
    response = getattr(api, method)("/api/read-write/", **bearer(make("write")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_need_write_scope(api, make, method):
    assert getattr(api, method)("/api/read-write/", **bearer(make("write"))).status_code == 200
    response = getattr(api, method)("/api/read-write/", **bearer(make("read")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("write")


def test_read_write_scope_adds_required_scopes(api, make):
    assert api.get("/api/read-write-profile/", **bearer(make("read profile"))).status_code == 200
    response = api.get("/api/read-write-profile/", **bearer(make("read")))
    assert response["WWW-Authenticate"] == insufficient("read profile")


def test_read_write_scope_names_come_from_settings(api, make, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "READ_SCOPE": "profile"}
    assert api.get("/api/read-write/", **bearer(make("profile"))).status_code == 200
    assert api.get("/api/read-write/", **bearer(make("read"))).status_code == 403


# TokenHasActionScope


def test_action_scopes_apply_per_action(api, make):
    read = bearer(make("read"))
    assert api.get("/api/notes/", **read).status_code == 200
    assert api.post("/api/notes/", **read).status_code == 403
    assert api.post("/api/notes/", **bearer(make("write"))).status_code == 201
    response = api.get("/api/notes/1/", **read)
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read profile")
    assert api.get("/api/notes/1/", **bearer(make("read profile"))).status_code == 200


def test_action_without_scopes_is_improperly_configured(api, make):
    with pytest.raises(ImproperlyConfigured, match="destroy"):
        api.delete("/api/notes/1/", **bearer(make("read write")))


def test_viewset_without_action_scopes_is_improperly_configured(api, make):
    with pytest.raises(ImproperlyConfigured, match="required_action_scopes"):
        api.get("/api/unmapped/", **bearer(make("read")))


def test_options_needs_read_scope_unless_listed(api, make):
    assert api.options("/api/notes/", **bearer(make("read"))).status_code == 200
    assert api.options("/api/notes/", **bearer(make("write"))).status_code == 403


def test_unrouted_method_is_405_not_500(api, make):
    assert api.put("/api/notes/", **bearer(make("read write"))).status_code == 405


# IsAuthenticatedOrTokenHasScope


def test_session_user_passes_without_token(user, db):
    api = APIClient()
    api.force_login(user)
    assert api.get("/api/session-or-token/").status_code == 200


def test_token_needs_scope_even_if_its_user_could_sign_in(api, make):
    assert api.get("/api/session-or-token/", **bearer(make("read"))).status_code == 200
    response = api.get("/api/session-or-token/", **bearer(make("write")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read")


def test_anonymous_is_401(api, db):
    response = api.get("/api/session-or-token/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# Composition


def test_or_lets_the_other_permission_decide(api, make, user):
    # IsAdminUser is asked although the token lacks "write".
    user.is_staff = True
    user.save()
    assert api.get("/api/write-or-admin/", **bearer(make("read"))).status_code == 200


def test_or_refusal_carries_the_scope_challenge(api, make):
    response = api.get("/api/write-or-admin/", **bearer(make("read")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("write")


def test_or_passes_with_the_scope(api, make):
    assert api.get("/api/write-or-admin/", **bearer(make("write"))).status_code == 200


def test_and_needs_both(api, make):
    assert api.get("/api/read-and-user/", **bearer(make("read"))).status_code == 200
    response = api.get("/api/read-and-user/", **bearer(make("write")))
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == insufficient("read")


def test_and_refused_by_the_other_permission_has_no_scope_challenge(api, make):
    # A client-credentials token has the scope but no user: IsAuthenticated refuses.
    response = api.get("/api/read-and-user/", **bearer(make("read", user=None)))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


def test_earlier_permission_refusing_is_not_a_scope_failure(api, make):
    response = api.get("/api/user-then-read/", **bearer(make("read", user=None)))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
