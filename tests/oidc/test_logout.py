"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from joserfc import jwt

from oauthflow.models import AccessToken, RefreshToken
from oauthflow.oidc.backchannel import EVENT
from tests import factories
from tests.conftest import bearer
from tests.oidc.helpers import jwks, sign_in_with_openid, verify

BACK = "https://rp.example.com/signed-out"


class Receiver:
    """A relying party's back-channel logout URI, on a local port."""

    def __init__(self, delay: float = 0, status: int = 200):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers["Content-Type"], parse_qs(body.decode())))
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def rp(db):
    return factories.ClientFactory(post_logout_redirect_uris=BACK)


def end_session(http, method="get", **params):
    if method == "post":
        return http.post(
            "/oauth/logout/", urlencode(params), content_type="application/x-www-form-urlencoded"
        )
    return http.get("/oauth/logout/?" + urlencode(params))


def signed_in_user(http):
    return http.get("/oauth/authorized-apps/").status_code == 200


def test_a_hint_for_the_signed_in_user_signs_out_and_goes_back(signed_in, rp, committed):
    tokens = sign_in_with_openid(signed_in, rp)
    with committed():
        response = end_session(
            signed_in,
            id_token_hint=tokens["id_token"],
            post_logout_redirect_uri=BACK,
            state="s-1",
        )
    assert response.status_code == 302 and response["Location"] == BACK + "?state=s-1"
    assert not signed_in_user(signed_in)
    # The sign-in's tokens end with the session (LOGOUT_REVOKES_TOKENS).
    assert signed_in.get("/oauth/userinfo/", **bearer(tokens["access_token"])).status_code == 401
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()


def test_post_from_the_relying_party_works_too(signed_in, rp):
    tokens = sign_in_with_openid(signed_in, rp)
    response = end_session(
        signed_in, "post", id_token_hint=tokens["id_token"], post_logout_redirect_uri=BACK
    )
    assert response.status_code == 302 and response["Location"] == BACK
    assert not signed_in_user(signed_in)


def test_without_a_hint_the_user_confirms(signed_in, rp):
    page = end_session(signed_in, client_id=rp.client_id, post_logout_redirect_uri=BACK)
    assert page.status_code == 200 and signed_in_user(signed_in)
    html = page.content.decode()
    assert "Sign out?" in html and rp.name in html
    confirm = page.context["confirm"]
    done = end_session(
        signed_in,
        "post",
        client_id=rp.client_id,
        post_logout_redirect_uri=BACK,
        confirm=confirm,
    )
    assert done.status_code == 302 and done["Location"] == BACK
    assert not signed_in_user(signed_in)


def test_a_forged_confirmation_signs_nobody_out(signed_in, rp):
    for confirm in ("", "forged", "x:y:z"):
        page = end_session(signed_in, "post", client_id=rp.client_id, confirm=confirm)
        assert page.status_code == 200 and signed_in_user(signed_in)


def test_a_hint_about_another_user_asks_first(signed_in, user, rp):
    bob = factories.UserFactory(username="bob")
    signed_in.force_login(bob)
    bobs = sign_in_with_openid(signed_in, rp)["id_token"]
    signed_in.force_login(user)
    page = end_session(signed_in, id_token_hint=bobs)
    assert page.status_code == 200 and "Sign out?" in page.content.decode()
    assert signed_in_user(signed_in)


def test_unregistered_return_uris_are_never_redirected_to(signed_in, rp):
    tokens = sign_in_with_openid(signed_in, rp)
    for uri in ("https://evil.example.com/", BACK + "/more", BACK + "?x=1"):
        response = end_session(
            signed_in, id_token_hint=tokens["id_token"], post_logout_redirect_uri=uri
        )
        assert response.status_code == 400, uri
        assert "Location" not in response
    assert signed_in_user(signed_in)
    # Without a client there is nothing the URI could be registered for.
    assert end_session(signed_in, post_logout_redirect_uri=BACK).status_code == 400


def test_hostile_input_gets_an_error_page(signed_in, rp):
    other = factories.ClientFactory()
    hint = sign_in_with_openid(signed_in, rp)["id_token"]
    for params in (
        {"id_token_hint": "garbage"},
        {"id_token_hint": hint[:-3] + "AAA"},
        {"id_token_hint": hint, "client_id": other.client_id},
        {"client_id": "nobody"},
        {"client_id": "x" * 500},
    ):
        response = end_session(signed_in, **params)
        assert response.status_code == 400, params
    assert signed_in.get("/oauth/logout/?state=%FF").status_code == 400
    assert signed_in.get("/oauth/logout/?state=a&state=b").status_code == 400
    assert signed_in.put("/oauth/logout/").status_code == 405
    assert signed_in_user(signed_in)


def test_signed_out_already(client, rp):
    assert (
        end_session(client, client_id=rp.client_id, post_logout_redirect_uri=BACK)["Location"]
        == BACK
    )
    assert "You are signed out" in end_session(client).content.decode()


# Back-channel ----------------------------------------------------------------------------


def test_the_session_s_relying_parties_get_a_logout_token(signed_in, receiver, committed):
    a, b = receiver(), receiver()
    first = factories.ClientFactory(backchannel_logout_uri=a.url)
    second = factories.ClientFactory(
        backchannel_logout_uri=b.url, id_token_signed_response_alg="ES256"
    )
    silent = factories.ClientFactory()  # no back-channel URI: not told
    id_tokens = {c: sign_in_with_openid(signed_in, c)["id_token"] for c in (first, second, silent)}
    keys = jwks(signed_in)
    with committed():
        assert end_session(signed_in, client_id=first.client_id).status_code == 200
        page = end_session(signed_in, "post", confirm=_confirm(signed_in, first))
    assert page.status_code == 200
    for r, c in ((a, first), (b, second)):
        [(content_type, body)] = r.received
        assert content_type == "application/x-www-form-urlencoded"
        token = jwt.decode(body["logout_token"][0], keys)
        assert token.header["typ"] == "logout+jwt"
        assert token.header["alg"] == c.id_token_signed_response_alg
        claims = token.claims
        id_claims = verify(signed_in, id_tokens[c])
        assert claims["iss"] == id_claims["iss"] and claims["aud"] == c.client_id
        assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
        assert claims["events"] == {EVENT: {}} and claims["jti"]
        assert "nonce" not in claims and claims["exp"] > claims["iat"]
    assert not AccessToken.objects.filter(revoked_at__isnull=True, user__isnull=False).exists()


def _confirm(http, client):
    return end_session(http, client_id=client.client_id).context["confirm"]


def test_the_site_s_own_logout_tells_them_too(signed_in, receiver, committed):
    r = receiver()
    rp = factories.ClientFactory(backchannel_logout_uri=r.url)
    sign_in_with_openid(signed_in, rp)
    with committed():
        signed_in.post("/accounts/logout/")
    assert len(r.received) == 1


def test_only_this_session_s_sign_ins_end(client, user, receiver, committed, settings):
    r = receiver()
    rp = factories.ClientFactory(backchannel_logout_uri=r.url)
    from django.test import Client as Browser

    laptop, phone = Browser(), Browser()
    laptop.force_login(user)
    phone.force_login(user)
    sign_in_with_openid(laptop, rp)
    phone_tokens = sign_in_with_openid(phone, rp)
    with committed():
        end_session(laptop, "post", confirm=_confirm(laptop, rp))
    assert len(r.received) == 1
    assert phone.get("/oauth/userinfo/", **bearer(phone_tokens["access_token"])).status_code == 200


def test_a_slow_or_broken_client_cannot_stall_or_break_logout(
    signed_in, receiver, committed, settings, caplog
):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "BACKCHANNEL_LOGOUT_TIMEOUT": 1}
    slow, failing = receiver(delay=5), receiver(status=500)
    clients = [
        factories.ClientFactory(backchannel_logout_uri=slow.url),
        factories.ClientFactory(backchannel_logout_uri=failing.url),
        factories.ClientFactory(backchannel_logout_uri="http://127.0.0.1:9/nobody-listens"),
    ]
    tokens = [sign_in_with_openid(signed_in, c) for c in clients]
    started = time.monotonic()
    with committed():
        response = end_session(signed_in, id_token_hint=tokens[0]["id_token"])
    assert response.status_code == 200 and "You are signed out" in response.content.decode()
    assert time.monotonic() - started < 3
    logged = caplog.text
    for c in clients:
        assert c.client_id in logged
    for t in tokens:  # nothing secret in the log
        assert t["access_token"] not in logged and t["id_token"][:40] not in logged


def test_logout_can_keep_the_tokens(signed_in, rp, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "LOGOUT_REVOKES_TOKENS": False}
    tokens = sign_in_with_openid(signed_in, rp)
    end_session(signed_in, id_token_hint=tokens["id_token"])
    assert signed_in.get("/oauth/userinfo/", **bearer(tokens["access_token"])).status_code == 200


def test_discovery_advertises_logout(client, db):
    body = client.get("/.well-known/openid-configuration").json()
    assert body["end_session_endpoint"] == "http://testserver/oauth/logout/"
    assert body["backchannel_logout_supported"] is True
    assert body["backchannel_logout_session_supported"] is True


def test_a_confirmation_from_another_session_signs_nobody_out(signed_in, user, rp):
    from django.test import Client as Browser

    other = Browser()
    other.force_login(factories.UserFactory(username="mallory"))
    theirs = _confirm(other, rp)
    page = end_session(signed_in, "post", client_id=rp.client_id, confirm=theirs)
    assert page.status_code == 200 and signed_in_user(signed_in)


def test_the_confirmation_does_not_reveal_the_session(signed_in, rp):
    import base64

    confirm = _confirm(signed_in, rp)
    session_key = signed_in.session.session_key
    assert session_key not in confirm
    decoded = base64.urlsafe_b64decode(confirm.split(":")[0] + "==").decode(errors="replace")
    assert session_key not in decoded


def test_hidden_fields_are_escaped(signed_in, rp):
    html = end_session(signed_in, client_id=rp.client_id, state='"><script>x</script>')
    assert b"<script>x" not in html.content
    assert b"&quot;&gt;&lt;script&gt;" in html.content


def test_head_signs_nobody_out(signed_in, rp):
    tokens = sign_in_with_openid(signed_in, rp)
    response = signed_in.head("/oauth/logout/?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert response.status_code == 200 and signed_in_user(signed_in)


def test_odd_post_bodies_get_an_error_page(signed_in, rp, settings):
    json_body = signed_in.post("/oauth/logout/", "{}", content_type="application/json")
    assert json_body.status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    huge = end_session(signed_in, "post", state="x" * 2000)
    assert huge.status_code == 400 and signed_in_user(signed_in)


def test_a_logout_token_is_not_an_id_token_hint(signed_in, receiver, committed, user):
    r = receiver()
    rp = factories.ClientFactory(backchannel_logout_uri=r.url)
    sign_in_with_openid(signed_in, rp)
    with committed():
        end_session(signed_in, "post", confirm=_confirm(signed_in, rp))
    [(_type, body)] = r.received
    signed_in.force_login(user)
    response = end_session(signed_in, id_token_hint=body["logout_token"][0])
    assert response.status_code == 400


def test_a_failing_back_channel_still_signs_out(signed_in, rp, monkeypatch, caplog):
    from oauthflow.oidc import backchannel

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(backchannel, "_end_sign_ins", broken)
    tokens = sign_in_with_openid(signed_in, rp)
    response = end_session(signed_in, id_token_hint=tokens["id_token"])
    assert response.status_code == 200 and not signed_in_user(signed_in)
    assert "Back-channel logout failed" in caplog.text


def test_a_client_that_registered_itself_gets_no_redirect_without_a_hint(client, rp):
    # RP-Initiated Logout 1.0 §3: without id_token_hint, only a target staff trust.
    from oauthflow.registration.models import ClientRegistration

    ClientRegistration.objects.create(
        client=rp, access_token_digest="d" * 64, access_token_hint="h"
    )
    page = end_session(client, client_id=rp.client_id, post_logout_redirect_uri=BACK)
    assert page.status_code == 200 and "Location" not in page
    # A staff-made client's registered target is trusted (test above: 302 to BACK).


def test_a_self_registered_client_with_a_hint_goes_back(signed_in, rp):
    from oauthflow.registration.models import ClientRegistration

    tokens = sign_in_with_openid(signed_in, rp)
    ClientRegistration.objects.create(
        client=rp, access_token_digest="d" * 64, access_token_hint="h"
    )
    response = end_session(
        signed_in, id_token_hint=tokens["id_token"], post_logout_redirect_uri=BACK
    )
    assert response.status_code == 302 and response["Location"] == BACK
