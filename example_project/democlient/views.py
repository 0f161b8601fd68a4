"""The demo client's pages: link an account at the provider and use it, step by step.

Each action records one event: what was sent and received (credentials masked) and one
sentence saying what just happened in OAuth terms. Actions answer with a redirect to the
demo page (post/redirect/get), so reloading the page never replays a code or a token.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .conf import demo_settings
from .provider import (
    DemoError,
    credentials,
    discover,
    mask,
    masked_token_response,
    oauth_session,
    validate_id_token,
)
from .session import client_session

#: Keys in the client's session.
PENDING = "pending"  # state, PKCE verifier and issuer of the authorization in flight
SIGNING_OUT = "signing_out"  # the state of a logout in flight
TOKEN = "token"
EVENTS = "events"
MAX_EVENTS = 20


def _event(
    request: HttpRequest, title: str, explain: str, detail: str = "", ok: bool = True
) -> None:
    events = request.client_session.get(EVENTS, [])
    events.append({"title": title, "explain": explain, "detail": detail, "ok": ok})
    request.client_session[EVENTS] = events[-MAX_EVENTS:]


def _to_demo() -> HttpResponseRedirect:
    # The fragment scrolls the browser to what just happened.
    return HttpResponseRedirect(reverse("democlient:demo") + "#latest")


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


@never_cache
@require_GET
@client_session
def demo(request: HttpRequest) -> HttpResponse:
    """The demo page: the connection's state, the actions, and what happened so far."""
    # The client's cookie is per host: opened as localhost, the callback (registered on
    # 127.0.0.1) would arrive without it. Move to the registered host first.
    home = urlsplit(demo_settings()["REDIRECT_URI"])
    if request.get_host() != home.netloc:
        return HttpResponseRedirect(f"{home.scheme}://{home.netloc}{request.path}")
    problem = ""
    try:
        client_id = credentials().client_id
    except DemoError as exc:
        client_id, problem = "", str(exc)
    token = request.client_session.get(TOKEN)
    context = {
        "client_id": client_id,
        "problem": problem,
        "token": token and masked_token_response(token),
        "events": list(reversed(request.client_session.get(EVENTS, []))),
        "provider_url": demo_settings()["PROVIDER_URL"],
    }
    return render(request, "democlient/demo.html", context)


@require_POST
@client_session
def connect(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow: send the user to the provider with state and PKCE."""
    store = request.client_session
    for key in (PENDING, TOKEN, EVENTS):
        store.pop(key, None)
    try:
        provider = discover()
        oauth = oauth_session()
    except DemoError as exc:
        _event(request, "Connect", str(exc), ok=False)
        return _to_demo()
    # Both random and kept only on our server: state ties the response to this browser
    # (CSRF), the verifier proves at the token endpoint that we sent this request (PKCE).
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    # OpenID Connect: the nonce comes back inside the ID token, tying it to this request.
    nonce = secrets.token_urlsafe(32)
    url, _ = oauth.create_authorization_url(
        provider.authorization_endpoint,
        state=state,
        code_verifier=verifier,
        scope=demo_settings()["SCOPE"],
        nonce=nonce,
    )
    store[PENDING] = {
        "state": state,
        "verifier": verifier,
        "issuer": provider.issuer,
        "nonce": nonce,
    }
    params = "\n".join(f"{k}={v}" for k, v in parse_qsl(urlsplit(url).query))
    _event(
        request,
        "Authorization request",
        "We sent you to the provider's authorization endpoint with response_type=code, "
        "a random state and a PKCE code_challenge (the S256 hash of a code_verifier that "
        "stays on our server).",
        f"GET {provider.authorization_endpoint}\n{params}",
    )
    return HttpResponseRedirect(url)


@never_cache
@require_GET
@client_session
def callback(request: HttpRequest) -> HttpResponse:
    """The redirect URI: check the authorization response, then redeem the code."""
    pending = request.client_session.pop(PENDING, None)
    params = request.GET
    title = "Authorization response"
    if pending is None:
        _event(
            request,
            title,
            "No connection was in progress (the page was reloaded or opened from "
            "elsewhere), so we ignored this response; press Connect to start again.",
            ok=False,
        )
    elif not secrets.compare_digest(params.get("state", "").encode(), pending["state"].encode()):
        _event(
            request,
            title,
            "The state in this response is not the one we sent, so we ignored it: this "
            "is how a client refuses a forged authorization response (CSRF).",
            ok=False,
        )
    elif params.get("iss") != pending["issuer"]:
        _event(
            request,
            title,
            f"The response's iss ({params.get('iss', 'missing')}) is not the provider we "
            f"sent you to ({pending['issuer']}), so we ignored it (RFC 9207 stops mix-up "
            "attacks this way).",
            ok=False,
        )
    elif "error" in params:
        _authorization_error(request, params.get("error", ""), params.get("error_description"))
    elif not params.get("code"):
        _event(request, title, "The provider sent neither a code nor an error.", ok=False)
    else:
        _event(
            request,
            title,
            "The provider sent you back with a one-time code; its state matches the one "
            "we stored and its iss names the provider we asked, so we accept it.",
            f"code={mask(params['code'])}\nstate={params['state']}\niss={params['iss']}",
        )
        if _redeem(request, params["code"], pending["verifier"]):
            if "id_token" in request.client_session[TOKEN]:
                _sign_in(request, pending.get("nonce", ""))
            _call_api(request)
    return _to_demo()


def _authorization_error(request: HttpRequest, error: str, description: str | None) -> None:
    if error == "access_denied":
        explain = (
            "You chose Deny, so the provider sent you back with error=access_denied and "
            "no code: this app gets nothing from your account."
        )
    else:
        explain = "The provider refused the authorization request and sent back an error."
    detail = f"error={error}" + (f"\nerror_description={description}" if description else "")
    _event(request, "Authorization response", explain, detail, ok=False)


def _redeem(request: HttpRequest, code: str, verifier: str) -> bool:
    """Exchange the code (and the PKCE verifier) for tokens at the token endpoint."""
    title = "Token request"
    try:
        provider = discover()
        token = oauth_session().fetch_token(
            provider.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
        )
    except (DemoError, OAuthError, requests.RequestException, ValueError) as exc:
        _event(request, title, f"The token endpoint refused the code: {exc}", ok=False)
        return False
    request.client_session[TOKEN] = dict(token)
    _event(
        request,
        title,
        "We sent the code and our PKCE code_verifier to the token endpoint, signed in "
        "with our client secret, and got an access token and a refresh token.",
        _pretty(masked_token_response(token)),
    )
    return True


def _sign_in(request: HttpRequest, nonce: str) -> None:
    """OpenID Connect: validate the ID token, then ask UserInfo who the user is."""
    token = request.client_session[TOKEN]
    try:
        provider = discover()
        claims = validate_id_token(provider, token, nonce, credentials().client_id)
    except DemoError as exc:
        _event(request, "ID token", str(exc), ok=False)
        return
    _event(
        request,
        "ID token",
        "The token response carried an ID token. We checked its signature against the "
        "provider's published keys (JWKS), that it was issued by the provider for us, "
        "is unexpired, carries the nonce we sent and matches the access token (at_hash): "
        "you are signed in as the subject (sub) below.",
        _pretty(claims),
    )
    if not provider.userinfo_endpoint:
        return
    try:
        response = oauth_session(token).get(provider.userinfo_endpoint)
        info = response.json()
    except (OAuthError, requests.RequestException, ValueError) as exc:
        _event(request, "UserInfo", f"Could not call UserInfo: {exc}", ok=False)
        return
    same = response.status_code == 200 and info.get("sub") == claims.get("sub")
    _event(
        request,
        "UserInfo",
        "We called the provider's UserInfo endpoint with the access token; it names the "
        "same subject as the ID token and tells us what the scopes let us see."
        if same
        else "UserInfo did not answer for the same subject as the ID token.",
        f"GET {provider.userinfo_endpoint}\n→ {response.status_code}\n" + _pretty(info),
        ok=same,
    )


def _call_api(request: HttpRequest) -> None:
    """Call the protected API with the access token as a bearer token (RFC 6750)."""
    title = "API call"
    token = request.client_session.get(TOKEN)
    if not token:
        _event(request, title, "There is no access token yet: press Connect.", ok=False)
        return
    try:
        provider = discover()
        # Authlib puts the token in an ``Authorization: Bearer`` header. With no token
        # endpoint configured it never refreshes behind our back: the demo does it openly.
        response = oauth_session(token).get(provider.api_url)
    except OAuthError as exc:  # Authlib's local expiry check
        _event(request, title, f"{exc}: the access token has expired; press Refresh.", ok=False)
        return
    except (DemoError, requests.RequestException) as exc:
        _event(request, title, f"Could not call the API: {exc}", ok=False)
        return
    try:
        body = _pretty(response.json())
    except ValueError:
        body = response.text[:500]
    detail = f"GET {provider.api_url}\n→ {response.status_code} {response.reason}\n"
    challenge = response.headers.get("WWW-Authenticate")
    if challenge:
        detail += f"WWW-Authenticate: {challenge}\n"
    if response.status_code == 200:
        explain = (
            "We called the API with the access token in an Authorization: Bearer header; "
            "the API accepted it and answered with your profile."
        )
    elif response.status_code == 401:
        explain = (
            "The API refused the access token with 401 and a WWW-Authenticate challenge: "
            "the token is no longer valid (revoked or expired)."
        )
    else:
        explain = f"The API answered {response.status_code}."
    _event(request, title, explain, detail + body, ok=response.status_code == 200)


@require_POST
@client_session
def call_api(request: HttpRequest) -> HttpResponse:
    _call_api(request)
    return _to_demo()


@require_POST
@client_session
def refresh(request: HttpRequest) -> HttpResponse:
    """Trade the refresh token for new tokens; the provider rotates the refresh token."""
    title = "Refresh"
    token = request.client_session.get(TOKEN)
    if not token or not token.get("refresh_token"):
        _event(request, title, "There is no refresh token: press Connect.", ok=False)
        return _to_demo()
    old = token["refresh_token"]
    try:
        provider = discover()
        new = oauth_session(token).refresh_token(provider.token_endpoint, refresh_token=old)
    except (DemoError, OAuthError, requests.RequestException, ValueError) as exc:
        _event(
            request,
            title,
            f"The token endpoint refused the refresh token ({exc}): it was revoked, has "
            "expired, or was already used.",
            ok=False,
        )
        return _to_demo()
    request.client_session[TOKEN] = dict(new)
    rotated = new.get("refresh_token") != old
    _event(
        request,
        title,
        (
            "We traded the refresh token for a new access token. The provider rotated the "
            f"refresh token: we now hold {mask(new.get('refresh_token'))} and "
            f"{mask(old)} is retired for good."
        )
        if rotated
        else "We traded the refresh token for a new access token.",
        _pretty(masked_token_response(new)),
    )
    return _to_demo()


@require_POST
@client_session
def revoke(request: HttpRequest) -> HttpResponse:
    """Revoke the refresh token at the revocation endpoint (RFC 7009)."""
    title = "Revocation"
    token = request.client_session.get(TOKEN)
    if not token:
        _event(request, title, "There is no token to revoke: press Connect.", ok=False)
        return _to_demo()
    # Revoking the refresh token revokes the whole authorization at this provider,
    # access tokens included; a lone access token would leave the refresh token alive.
    value = token.get("refresh_token") or token["access_token"]
    hint = "refresh_token" if token.get("refresh_token") else "access_token"
    try:
        provider = discover()
        response = oauth_session(token).revoke_token(
            provider.revocation_endpoint, token=value, token_type_hint=hint
        )
    except (DemoError, requests.RequestException) as exc:
        _event(request, title, f"Could not reach the revocation endpoint: {exc}", ok=False)
        return _to_demo()
    if response.status_code == 200:
        # The refresh token is dead now: forget it, so the page stops offering it. The
        # access token stays, to show it being refused.
        request.client_session[TOKEN] = {
            **{k: v for k, v in token.items() if k != "refresh_token"},
            "revoked": True,
        }
        _event(
            request,
            title,
            f"We asked the revocation endpoint to revoke our {hint} and the provider "
            "revoked every token of this authorization; we still hold the old access "
            "token, so press Call the API to watch it being refused.",
            f"POST {provider.revocation_endpoint}\ntoken={mask(value)}\n"
            f"token_type_hint={hint}\n→ {response.status_code} {response.reason}",
        )
    else:
        _event(
            request,
            title,
            f"The revocation endpoint answered {response.status_code}.",
            response.text[:500],
            ok=False,
        )
    return _to_demo()


@require_POST
@client_session
def start_over(request: HttpRequest) -> HttpResponse:
    """Forget the tokens and the history (the provider still remembers your consent)."""
    request.client_session.flush()
    return HttpResponseRedirect(reverse("democlient:demo"))


@require_POST
@client_session
def sign_out(request: HttpRequest) -> HttpResponse:
    """OpenID Connect RP-Initiated Logout: send the user to the provider to sign out,
    with our ID token as the hint and a state for the way back."""
    token = request.client_session.get(TOKEN) or {}
    try:
        provider = discover()
    except DemoError as exc:
        _event(request, "Sign out", str(exc), ok=False)
        return _to_demo()
    if not token.get("id_token") or not provider.end_session_endpoint:
        _event(request, "Sign out", "We hold no ID token, so there is no sign-in to end.", ok=False)
        return _to_demo()
    state = secrets.token_urlsafe(32)
    request.client_session[SIGNING_OUT] = state
    params = {
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": demo_settings()["SIGNED_OUT_URI"],
        "state": state,
    }
    return HttpResponseRedirect(provider.end_session_endpoint + "?" + urlencode(params))


@never_cache
@require_GET
@client_session
def signed_out(request: HttpRequest) -> HttpResponse:
    """The post-logout redirect URI: the provider signed the user out."""
    expected = request.client_session.pop(SIGNING_OUT, None)
    sent = request.GET.get("state", "")
    if expected is None or not secrets.compare_digest(sent.encode(), expected.encode()):
        _event(
            request,
            "Signed out",
            "This sign-out response does not carry the state we sent, so we ignored it.",
            ok=False,
        )
        return _to_demo()
    request.client_session.pop(TOKEN, None)
    _event(
        request,
        "Signed out",
        "We sent you to the provider's end_session_endpoint with our ID token as the hint; "
        "it signed you out there (and ended this sign-in's tokens) and sent you back with "
        "our state. We forgot the tokens too.",
        f"state={sent}",
    )
    return _to_demo()
