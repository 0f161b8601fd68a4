"""Which web origins a client allows, and the per-process set preflights read."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from oauthflow import cors
from oauthflow.models import Client
from tests import factories

pytestmark = pytest.mark.django_db


def public(**fields) -> Client:
    return factories.PublicClientFactory(**fields)


def test_the_origins_of_https_and_loopback_redirect_uris():
    client = public(
        redirect_uris="\n".join(
            [
                "https://spa.example/callback",
                "https://spa.example/other?x=1",  # same origin, once
                "https://Auth.Example:443/cb",  # default port dropped, host lowercased
                "https://spa.example:8443/cb",
                "http://127.0.0.1:5173/cb",
                "http://localhost/cb",
                "http://[::1]:8080/cb",
                "com.example.app:/callback",  # a native app's private-use scheme: no origin
                "http://spa.example/cb",  # plain http off loopback: never an origin
            ]
        )
    )
    assert cors.client_origins(client) == {
        "https://spa.example",
        "https://auth.example",
        "https://spa.example:8443",
        "http://127.0.0.1:5173",
        "http://localhost",
        "http://[::1]:8080",
    }


def test_allowed_origins_replace_the_redirect_uris_origins():
    client = public(
        redirect_uris="https://spa.example/cb",
        allowed_origins="https://app.example\nhttp://127.0.0.1:3000",
    )
    assert cors.client_origins(client) == {"https://app.example", "http://127.0.0.1:3000"}
    assert not cors.origin_allowed("https://spa.example", client)


def test_a_row_written_around_validation_yields_only_origins():
    client = public(allowed_origins="https://ok.example https://bad.example/path null *")
    assert cors.client_origins(client) == {"https://ok.example"}


def test_a_confidential_client_allows_no_origin():
    client = factories.ClientFactory(redirect_uris="https://web.example/cb")
    assert cors.client_origins(client) == frozenset()
    # Even a row that lists some (the form refuses it).
    client.allowed_origins = "https://web.example"
    assert cors.client_origins(client) == frozenset()


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "",
        "null",
        "https://spa.example/",
        "https://spa.example/cb",
        "https://spa.example:443",
        "HTTPS://SPA.EXAMPLE",
        "https://SPA.example",
        " https://spa.example",
        "https://spa.example https://evil.example",
        "https://spa.example.evil.example",
        "https://evil.example",
        "http://spa.example",
        "*",
    ],
)
def test_only_the_exact_origin_a_browser_sends_matches(origin):
    client = public(redirect_uris="https://spa.example/cb")
    assert cors.origin_allowed("https://spa.example", client)
    assert not cors.origin_allowed(origin, client)


def test_origin_validation_refuses_what_is_not_an_origin():
    client = public(allowed_origins="https://spa.example/path\nnull")
    with pytest.raises(ValidationError) as raised:
        client.full_clean()
    assert "allowed_origins" in raised.value.message_dict


def test_clean_refuses_allowed_origins_on_a_confidential_client():
    client = factories.ClientFactory(allowed_origins="https://web.example")
    with pytest.raises(ValidationError) as raised:
        client.full_clean()
    assert "allowed_origins" in raised.value.message_dict


# The set preflights read ----------------------------------------------------------------------


def test_any_client_allows_reads_active_public_clients_only():
    public(redirect_uris="https://spa.example/cb")
    public(redirect_uris="https://gone.example/cb", is_active=False)
    factories.ClientFactory(redirect_uris="https://web.example/cb")
    assert cors.any_client_allows("https://spa.example")
    assert not cors.any_client_allows("https://gone.example")
    assert not cors.any_client_allows("https://web.example")
    assert not cors.any_client_allows(None)
    assert not cors.any_client_allows("null")


def test_the_set_is_read_once_then_kept(django_assert_num_queries):
    public(redirect_uris="https://spa.example/cb")
    with django_assert_num_queries(1):
        assert cors.any_client_allows("https://spa.example")
    with django_assert_num_queries(0):
        for _ in range(5):
            assert cors.any_client_allows("https://spa.example")
            assert not cors.any_client_allows("https://evil.example")


def test_a_client_saved_here_adds_its_origins_at_once_without_a_query(
    django_assert_num_queries, monkeypatch
):
    assert not cors.any_client_allows("https://new.example")
    client = public(redirect_uris="https://new.example/cb")
    with django_assert_num_queries(0):
        assert cors.any_client_allows("https://new.example")
    # Removals (deactivated, deleted) wait for the next read: a stale "yes" only lets a
    # preflight through, and the request itself is decided for its client.
    client.is_active = False
    client.save()
    assert cors.any_client_allows("https://new.example")
    now = cors.time.monotonic()
    monkeypatch.setattr(cors.time, "monotonic", lambda: now + cors.RELOAD_SECONDS + 1)
    assert not cors.any_client_allows("https://new.example")


def test_a_failed_read_keeps_the_set_and_backs_off(monkeypatch):
    from django.db import OperationalError

    public(redirect_uris="https://spa.example/cb")
    assert cors.any_client_allows("https://spa.example")
    reads = []

    def down():
        reads.append(1)
        raise OperationalError("down")

    monkeypatch.setattr(cors._Origins, "_read", staticmethod(down))
    now = cors.time.monotonic()
    monkeypatch.setattr(cors.time, "monotonic", lambda: now + cors.RELOAD_SECONDS + 1)
    with pytest.raises(OperationalError):
        cors.any_client_allows("https://spa.example")
    # Until the back-off ends: the set held, no new read.
    assert cors.any_client_allows("https://spa.example")
    assert cors.any_client_allows("https://spa.example")
    assert len(reads) == 1


def test_a_change_another_process_made_is_read_after_the_reload_interval(monkeypatch):
    client = public(redirect_uris="https://spa.example/cb")
    assert cors.any_client_allows("https://spa.example")
    # As another process would: an UPDATE, no signal here.
    Client.objects.filter(pk=client.pk).update(is_active=False)
    assert cors.any_client_allows("https://spa.example")  # kept for now
    now = cors.time.monotonic()
    monkeypatch.setattr(cors.time, "monotonic", lambda: now + cors.RELOAD_SECONDS + 1)
    assert not cors.any_client_allows("https://spa.example")


@pytest.mark.parametrize(
    "value",
    [
        "https://bücher.example",
        "http://[0:0:0:0:0:0:0:1]",
        "https://*.example",
        "https://APP.example",
    ],
)
def test_an_origin_no_browser_sends_cannot_be_registered(value):
    # Browsers send the xn-- form, the shortest IPv6 form, lowercase, and no wildcard:
    # such a value would silently never match.
    from oauthflow.redirect_uris import origin_problem

    assert origin_problem(value)
