"""How an API on another host fetches the provider's keys (``keysource.get_json``): over
https only, unless to this machine or in tests; for as long as ``max-age`` says, within
bounds. No network: ``urlopen`` is replaced."""

from __future__ import annotations

import io
import json

import pytest

from oauthflow.formats import keysource


class FakeResponse(io.BytesIO):
    def __init__(self, url: str, body: dict, cache_control: str | None) -> None:
        super().__init__(json.dumps(body).encode())
        self.url = url
        self.headers = {"Cache-Control": cache_control} if cache_control else {}

    def geturl(self) -> str:
        return self.url


@pytest.fixture
def fetched(monkeypatch):
    """The URLs ``urlopen`` was asked for; ``fetched.redirect_to`` and
    ``fetched.cache_control`` shape its answer."""

    class Recorder(list):
        redirect_to: str | None = None
        cache_control: str | None = "public, max-age=600"

    recorder = Recorder()

    def urlopen(request, timeout):
        recorder.append(request.full_url)
        final = recorder.redirect_to or request.full_url
        return FakeResponse(final, {"keys": []}, recorder.cache_control)

    monkeypatch.setattr(keysource, "urlopen", urlopen)
    return recorder


@pytest.fixture
def secure_only(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": False}


@pytest.mark.parametrize(
    "url",
    [
        "http://provider.example/oauth/jwks/",
        "http://10.0.0.5/oauth/jwks/",
        "ftp://provider.example/jwks",
        "file:///etc/passwd",
    ],
)
def test_plain_http_to_another_host_is_never_fetched(secure_only, fetched, url):
    with pytest.raises(ValueError, match="https"):
        keysource.get_json(url)
    assert fetched == []


@pytest.mark.parametrize(
    "url",
    [
        "https://provider.example/oauth/jwks/",
        "http://localhost:8000/oauth/jwks/",
        "http://127.0.0.1:8000/oauth/jwks/",
        "http://[::1]:8000/oauth/jwks/",
    ],
)
def test_https_or_this_machine_is_fetched(secure_only, fetched, url):
    assert keysource.get_json(url) == ({"keys": []}, 600)
    assert fetched == [url]


def test_a_redirect_from_https_to_http_is_refused(secure_only, fetched):
    fetched.redirect_to = "http://provider.example/oauth/jwks/"
    with pytest.raises(ValueError, match="https"):
        keysource.get_json("https://provider.example/oauth/jwks/")


def test_allow_insecure_transport_allows_plain_http(settings, fetched):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ALLOW_INSECURE_TRANSPORT": True}
    assert keysource.get_json("http://provider.example/oauth/jwks/")[0] == {"keys": []}


@pytest.mark.parametrize(
    ("cache_control", "kept"),
    [
        ("public, max-age=600", 600),
        ("max-age=5", keysource.MIN_CACHE),
        ("max-age=99999999", keysource.MAX_CACHE),
        (None, keysource.DEFAULT_CACHE),
        ("no-cache", keysource.DEFAULT_CACHE),
    ],
)
def test_keys_are_kept_for_max_age_within_bounds(fetched, cache_control, kept):
    fetched.cache_control = cache_control
    assert keysource.get_json("https://provider.example/oauth/jwks/")[1] == kept


def test_a_stale_key_set_is_served_while_one_thread_refreshes_it(monkeypatch):
    """A refresh never makes every request wait: the keys held serve meanwhile."""
    import threading
    import time as clock

    from joserfc.jwk import KeySet, RSAKey

    old = KeySet([RSAKey.generate_key(2048, parameters={"kid": "a"})])
    remote = keysource.RemoteKeys()
    remote._keys, remote._expires, remote._last_fetch = old, 0.0, 0.0  # stale
    release = threading.Event()
    fetches = []

    def slow_download():
        fetches.append(1)
        release.wait(5)
        return old, 300

    monkeypatch.setattr(remote, "_download", slow_download)
    refresher = threading.Thread(target=remote.key, args=("a",))
    refresher.start()
    while not fetches:
        clock.sleep(0.01)
    started = clock.monotonic()
    assert remote.key("a") is not None  # the held key, at once
    assert clock.monotonic() - started < 1
    release.set()
    refresher.join(5)
    assert len(fetches) == 1
