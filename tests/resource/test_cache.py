"""The optional token cache (Redis alias "tokens"): no query on a hit, and every way a
token stops being valid is seen by the very next request."""

import pickle
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from oauthflow import tokens
from oauthflow.models import AccessToken, Client
from oauthflow.resource import cache as token_cache
from oauthflow.resource import validation
from oauthflow.store import revocation
from oauthflow.store.validity import Refusal
from tests import factories
from tests.conftest import bearer as auth


@pytest.fixture
def api():
    return APIClient()


def _redis_ttl(cache, key):
    full_key = cache.make_and_validate_key(key)
    return cache._cache.get_client(full_key).ttl(full_key)


@pytest.mark.parametrize("path", ["/api/read/", "/plain/read/"])
def test_hit_needs_no_query(api, access_token, redis_token_cache, path, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert api.get(path, **auth(access_token.value)).status_code == 200
    with django_assert_num_queries(0):
        response = api.get(path, **auth(access_token.value))
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["client_id"] == access_token.client.client_id


def test_cache_is_off_by_default(access_token, django_assert_num_queries):
    validation.validate(access_token.value)
    with django_assert_num_queries(1):
        validation.validate(access_token.value)


def test_cached_token_has_client_and_user_without_queries(
    access_token, redis_token_cache, django_assert_num_queries
):
    validation.validate(access_token.value)
    with django_assert_num_queries(0):
        found = validation.validate(access_token.value)
        assert found == access_token
        assert found.scopes == {"read"}
        assert found.expires_at == access_token.expires_at
        assert found.client.client_id == access_token.client.client_id
        assert found.user.email == "alice@example.com"
        assert found.user.is_authenticated


def test_entry_is_keyed_by_digest_and_holds_no_secret(access_token, redis_token_cache):
    validation.validate(access_token.value)
    entry = redis_token_cache.get(token_cache_key := "oauthflow:at:3:" + access_token.digest)
    assert entry is not None
    raw = pickle.dumps(entry)
    assert access_token.value.encode() not in raw
    assert access_token.client.secret.encode() not in raw
    assert access_token.client.secret_digest.encode() not in raw
    assert access_token.user.password.encode() not in raw
    assert access_token.value not in redis_token_cache.make_and_validate_key(token_cache_key)


def test_left_out_fields_load_on_demand(access_token, redis_token_cache, django_assert_num_queries):
    validation.validate(access_token.value)
    found = validation.validate(access_token.value)
    with django_assert_num_queries(1):
        assert found.user.password == access_token.user.password


def test_entry_never_outlives_the_token(db, redis_token_cache):
    soon = factories.AccessTokenFactory(expires_at=timezone.now() + timedelta(seconds=30))
    later = factories.AccessTokenFactory(expires_at=timezone.now() + timedelta(hours=2))
    validation.validate(soon.value)
    validation.validate(later.value)
    assert 0 < _redis_ttl(redis_token_cache, token_cache.cache_key(soon.digest)) <= 30
    ttl = _redis_ttl(redis_token_cache, token_cache.cache_key(later.digest))
    assert 0 < ttl <= token_cache.MAX_ENTRY_SECONDS


def test_cached_token_still_expires_on_time(
    access_token, redis_token_cache, django_assert_num_queries
):
    validation.validate(access_token.value)
    later = access_token.expires_at + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with django_assert_num_queries(0):
            assert validation.validate(access_token.value) is Refusal.EXPIRED


def test_invalid_tokens_are_not_cached(db, redis_token_cache):
    value = tokens.generate("ofat")
    validation.validate(value)
    assert redis_token_cache.get(token_cache.cache_key(tokens.digest(value))) is None


# Revocation


@pytest.fixture(params=["cache on", "cache off"])
def cache_mode(request, settings):
    if request.param == "cache on":
        settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    return request.param


@pytest.mark.parametrize("path", ["/api/read/", "/plain/read/"])
def test_revoked_family_is_refused_on_the_next_request(
    api, access_token, cache_mode, path, django_capture_on_commit_callbacks
):
    for _ in range(2):  # the second one comes from the cache when it is on
        assert api.get(path, **auth(access_token.value)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        revocation.revoke_family(access_token.family, by="client")
    response = api.get(path, **auth(access_token.value))
    assert response.status_code == 401
    assert "revoked" in response["WWW-Authenticate"]


def test_revoked_grant_is_refused_on_the_next_request(
    api, access_token, cache_mode, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    with django_capture_on_commit_callbacks(execute=True):
        revocation.revoke_grant(access_token.client, access_token.user, by="user")
    assert api.get("/api/read/", **auth(access_token.value)).status_code == 401


def test_revoked_client_is_refused_on_the_next_request(
    api, access_token, cache_mode, django_capture_on_commit_callbacks
):
    other = factories.AccessTokenFactory()  # another client's token stays cached and valid
    api.get("/api/read/", **auth(access_token.value))
    api.get("/api/read/", **auth(other.value))
    with django_capture_on_commit_callbacks(execute=True):
        revocation.revoke_client(access_token.client, by="admin")
    assert api.get("/api/read/", **auth(access_token.value)).status_code == 401
    assert api.get("/api/read/", **auth(other.value)).status_code == 200


def _counted(callable_):
    with CaptureQueriesContext(connection) as ctx:
        callable_()
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_revocation_is_one_update_per_table_and_one_select_with_the_cache(
    db, settings, django_capture_on_commit_callbacks
):
    off = factories.AccessTokenFactory()
    queries = _counted(lambda: revocation.revoke_family(off.family, by="admin"))
    assert [q.split()[0] for q in queries] == ["UPDATE", "UPDATE", "UPDATE"]

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    on = factories.AccessTokenFactory()
    with django_capture_on_commit_callbacks(execute=True):
        queries = _counted(lambda: revocation.revoke_family(on.family, by="admin"))
    assert [q.split()[0] for q in queries] == ["UPDATE", "UPDATE", "UPDATE", "SELECT"]


def test_stale_marker_stops_a_racing_request_from_caching_the_old_row(
    access_token, redis_token_cache, django_capture_on_commit_callbacks
):
    # A request read the row just before the revocation committed...
    row = AccessToken.objects.select_related("client", "user").get(pk=access_token.pk)
    with django_capture_on_commit_callbacks(execute=True):
        revocation.revoke_family(access_token.family, by="client")
    # ...and only now writes it to the cache: the marker keeps it out.
    token_cache.store(redis_token_cache, row)
    assert validation.validate(access_token.value) is Refusal.REVOKED


def test_revoked_token_is_not_cached_again(
    access_token, redis_token_cache, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        revocation.revoke_family(access_token.family, by="client")
    for _ in range(2):
        with django_assert_num_queries(1):
            assert validation.validate(access_token.value) is Refusal.REVOKED


# Deactivation and deletion


def test_deactivated_client_is_refused_on_the_next_request(
    api, access_token, cache_mode, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    with django_capture_on_commit_callbacks(execute=True):
        access_token.client.is_active = False
        access_token.client.save()
    response = api.get("/api/read/", **auth(access_token.value))
    assert response.status_code == 401
    assert "client" in response["WWW-Authenticate"]


def test_deactivated_user_is_refused_on_the_next_request(
    api, access_token, cache_mode, django_capture_on_commit_callbacks
):
    api.get("/plain/read/", **auth(access_token.value))
    with django_capture_on_commit_callbacks(execute=True):
        access_token.user.is_active = False
        access_token.user.save()
    response = api.get("/plain/read/", **auth(access_token.value))
    assert response.status_code == 401
    assert response.json()["error_description"] == "The user of the access token is inactive."


def test_reactivated_user_is_accepted_again(
    api, access_token, redis_token_cache, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    user = access_token.user
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = True
        user.save()
    assert api.get("/api/read/", **auth(access_token.value)).status_code == 200


def test_saving_only_last_login_does_not_touch_the_cache(
    access_token, redis_token_cache, django_assert_num_queries
):
    access_token.user.is_active = False  # not saved: update_fields excludes it
    with django_assert_num_queries(1):
        access_token.user.save(update_fields=["last_login"])


@pytest.mark.parametrize("what", ["user", "client"])
def test_deleted_owner_is_refused_on_the_next_request(
    api, access_token, redis_token_cache, what, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    with django_capture_on_commit_callbacks(execute=True):
        getattr(access_token, what).delete()
    response = api.get("/api/read/", **auth(access_token.value))
    assert response.status_code == 401
    assert "unknown" in response["WWW-Authenticate"]


def test_bulk_update_then_invalidate_client(
    api, access_token, redis_token_cache, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    with django_capture_on_commit_callbacks(execute=True):
        Client.objects.filter(pk=access_token.client.pk).update(is_active=False)
        token_cache.invalidate_client(access_token.client)
    assert api.get("/api/read/", **auth(access_token.value)).status_code == 401


def test_bulk_update_then_invalidate_user(
    api, access_token, redis_token_cache, django_capture_on_commit_callbacks
):
    api.get("/api/read/", **auth(access_token.value))
    user = access_token.user
    with django_capture_on_commit_callbacks(execute=True):
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        token_cache.invalidate_user(user)
    assert api.get("/api/read/", **auth(access_token.value)).status_code == 401


# Failure of the cache itself


def test_unreachable_cache_falls_back_to_the_database(access_token, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "dead": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "dead"}
    assert validation.validate(access_token.value) == access_token
    assert "Token cache unreachable" in caplog.text
    assert access_token.value not in caplog.text


def test_redis_reads_reuse_one_client_and_match_cache_get(access_token, redis_token_cache):
    """Django's RedisCache builds a redis client per call; token reads build one per
    backend instance, and still honour the alias's KEY_PREFIX, version and serializer."""
    validation.validate(access_token.value)  # a miss: stores the entry
    key = token_cache.cache_key(access_token.digest)
    with mock.patch.object(
        redis_token_cache._cache, "get_client", wraps=redis_token_cache._cache.get_client
    ) as get_client:
        first = token_cache._get(redis_token_cache, key)
        second = token_cache._get(redis_token_cache, key)
    assert get_client.call_count == 0  # built by the validate above, then kept
    assert first == second == redis_token_cache.get(key)
    assert first["token"]["digest"] == access_token.digest
    assert token_cache._get(redis_token_cache, token_cache.cache_key("0" * 64)) is None
    redis_token_cache.set("oauthflow:test:marker", token_cache.STALE, timeout=30)
    assert token_cache._get(redis_token_cache, "oauthflow:test:marker") == token_cache.STALE


def test_other_cache_backends_are_read_with_cache_get(access_token, settings):
    from django.core.cache import caches

    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "default"}  # LocMemCache
    validation.validate(access_token.value)
    entry = token_cache._get(caches["default"], token_cache.cache_key(access_token.digest))
    assert entry["token"]["digest"] == access_token.digest


def test_several_redis_servers_are_read_with_cache_get(access_token, settings):
    """With read replicas Django picks one per read; a kept client would pin one."""
    from django.core.cache import caches

    url = settings.CACHES["tokens"]["LOCATION"]
    settings.CACHES = {
        **settings.CACHES,
        "replicas": {**settings.CACHES["tokens"], "LOCATION": [url, url]},
    }
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "replicas"}
    replicas = caches["replicas"]
    validation.validate(access_token.value)
    key = token_cache.cache_key(access_token.digest)
    with mock.patch.object(replicas, "get", wraps=replicas.get) as get:
        assert token_cache._get(replicas, key)["token"]["digest"] == access_token.digest
    get.assert_called_once_with(key)


def test_the_fast_redis_read_is_taken_on_this_django(redis_token_cache):
    """The reader reaches into RedisCache's private attributes; if a Django release
    renames one, reads fall back to cache.get and this test says so."""
    assert token_cache._fast_reader(redis_token_cache) is not None


def test_the_store_tells_the_cache_what_it_invalidated(access_token, redis_token_cache, committed):
    """The store knows nothing of the cache: its access_tokens_invalidated signal, sent
    inside the transaction, is what marks entries stale once it commits."""
    from oauthflow.store.revocation import access_tokens_invalidated

    validation.validate(access_token.value)  # cached
    key = token_cache.cache_key(access_token.digest)
    assert redis_token_cache.get(key) not in (None, token_cache.STALE)
    with committed():
        access_tokens_invalidated.send(
            sender=AccessToken, tokens=AccessToken.objects.filter(pk=access_token.pk)
        )
    assert redis_token_cache.get(key) == token_cache.STALE


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_revocation_reaches_the_cache_when_reads_go_to_a_replica(
    postgres_only, redis_token_cache, settings
):
    """The stale markers are found on the database the revocation writes to: a replica's
    connection cannot see the uncommitted UPDATE."""
    settings.DATABASE_ROUTERS = ["tests.routers.ReadReplicaRouter"]
    token = factories.AccessTokenFactory()
    assert validation.validate(token.value) == token  # read from the replica, cached
    assert validation.validate(token.value) == token  # a cache hit
    revocation.revoke_family(token.family, by="admin")
    assert validation.validate(token.value) is Refusal.REVOKED


def test_demoting_a_user_takes_effect_on_the_next_request(
    client, user, redis_token_cache, committed
):
    """The cached user carries is_staff; any change to a field an entry holds marks it."""
    user.is_staff = True
    user.save()
    token = factories.AccessTokenFactory(user=user, scope="read")
    assert client.get("/api/write-or-admin/", **auth(token.value)).status_code == 200
    assert client.get("/api/write-or-admin/", **auth(token.value)).status_code == 200  # cached
    user.is_staff = False
    with committed():
        user.save(update_fields=["is_staff"])
    assert client.get("/api/write-or-admin/", **auth(token.value)).status_code == 403
