"""Redirect URI registration rules (RFC 9700 §4.1, RFC 8252) and exact matching."""

import pytest
from django.core.exceptions import ValidationError

from oauthflow.redirect_uris import is_loopback_host, match_redirect_uri, validate_redirect_uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example.com/callback",
        "https://client.example.com:8443/cb?tenant=1",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8080/callback",
        "http://[::1]/callback",
        "http://[::1]:51004/cb",
        "https://client.example.com/caf%C3%A9",
        "https://xn--bcher-kva.example/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app://callback",
    ],
)
def test_valid_redirect_uri_is_accepted(uri):
    validate_redirect_uri(uri)  # does not raise


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://client.example.com/callback", "https"),
        ("http://10.0.0.1/callback", "https"),
        ("http://127.0.0.1.example.com/cb", "https"),
        ("https://client.example.com/callback#frag", "fragment"),
        ("https://client.example.com/callback#", "fragment"),
        ("https://user:pass@client.example.com/callback", "user information"),
        ("https://user@client.example.com/callback", "user information"),
        ("https://*.example.com/callback", "Wildcards"),
        ("https://client.example.com/*", "Wildcards"),
        ("javascript:alert(1)", "scheme"),
        ("JavaScript:alert(1)", "scheme"),
        ("data:text/html,hi", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("myapp:/callback", "reverse domain name"),
        ("/relative/callback", "absolute"),
        ("client.example.com/callback", "absolute"),
        ("https:///no-host", "no host"),
        ("https://client.example.com:99999/cb", "not a valid URI"),
        ("", "empty"),
        ("https://client.example.com/a b", "spaces"),
        (" https://client.example.com/cb", "spaces"),
        ("http://localhost/callback", "127.0.0.1"),
        ("http://LOCALHOST:3000/cb", "127.0.0.1"),
        ("https://client.example.com/café", "ASCII"),
        ("https://bücher.example/cb", "xn--"),
        ("https://client.example.com/cb\x7f", "ASCII"),
    ],
)
def test_invalid_redirect_uri_is_rejected_with_reason(uri, why):
    with pytest.raises(ValidationError) as excinfo:
        validate_redirect_uri(uri)
    assert why in " ".join(excinfo.value.messages)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("example.com", False),
        ("10.0.0.1", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback_host(host, expected):
    assert is_loopback_host(host) is expected


REGISTERED = ["https://client.example.com/callback", "http://127.0.0.1/cb"]


def test_match_is_exact():
    assert match_redirect_uri(
        "https://client.example.com/callback", REGISTERED, native_loopback=False
    )


@pytest.mark.parametrize(
    "requested",
    [
        "https://client.example.com/Callback",  # case-sensitive path
        "https://CLIENT.example.com/callback",  # no normalisation of the host either
        "https://client.example.com/callback/",
        "https://client.example.com/callback?x=1",
        "https://client.example.com/callback#x",
        "https://client.example.com:443/callback",
        "https://client.example.com/callbackx",
        "https://client.example.com/",
    ],
)
def test_anything_but_the_exact_string_does_not_match(requested):
    assert not match_redirect_uri(requested, REGISTERED, native_loopback=False)
    assert not match_redirect_uri(requested, REGISTERED, native_loopback=True)


def test_loopback_port_may_vary_for_public_clients_only():
    assert match_redirect_uri("http://127.0.0.1:51004/cb", REGISTERED, native_loopback=True)
    assert not match_redirect_uri("http://127.0.0.1:51004/cb", REGISTERED, native_loopback=False)


@pytest.mark.parametrize(
    "requested",
    [
        "http://127.0.0.1:51004/other",  # path differs
        "http://127.0.0.1:51004/cb?x=1",  # query differs
        "http://localhost:51004/cb",  # a different loopback host is a different URI
        "http://[::1]:51004/cb",
        "https://127.0.0.1:51004/cb",  # scheme differs
        "http://127.0.0.1:notaport/cb",
        "http://user@127.0.0.1:51004/cb",
        "http://127.0.0.1:51004/cb#",  # a bare fragment mark is another string
        "http://127.0.0.1:51004/cb?",  # so is a bare query mark
        "http://127.0.0.1:0/cb",  # port 0 is no port a client listens on
        "http://127.0.0.1:051004/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:51004/CB",
        "http://127.0.0.1:51004",
    ],
)
def test_loopback_port_variation_changes_only_the_port(requested):
    assert not match_redirect_uri(requested, REGISTERED, native_loopback=True)


def test_port_variation_does_not_apply_to_https_uris():
    assert not match_redirect_uri(
        "https://client.example.com:8443/callback", REGISTERED, native_loopback=True
    )
