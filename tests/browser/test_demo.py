"""The person's path through the demo, in real headless Chromium.

A newcomer opens /demo/, connects, signs in at the provider, consents, and watches the
demo client redeem the code, call the API, refresh, revoke, and be refused.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from oauthflow.models import AccessToken, Consent, RefreshToken

from .conftest import DEMO_PASSWORD, DEMO_USERNAME, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

#: A whole token on the page would look like this; the demo must show only masks.
WHOLE_TOKEN = re.compile(r"of(at|rt|ac)_[A-Za-z0-9_-]{8,}")


def latest(page: Page):
    """The newest event of the demo page's "What happened" list."""
    return page.locator("#latest")


def connect_and_sign_in(page: Page) -> None:
    page.goto("/demo/")
    page.get_by_role("button", name=re.compile(r"^Connect")).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(DEMO_USERNAME)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def assert_no_whole_token(page: Page) -> None:
    assert not WHOLE_TOKEN.search(page.content())


def test_demo_end_to_end(page: Page, demo_user, demo_client):
    connect_and_sign_in(page)

    # The consent page names the app and says in plain words what it may do.
    expect(page).to_have_title("Allow Demo Client to use your account?")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demo Client wants to use your account"
    )
    expect(page.locator(".oauthflow-scopes li")).to_have_text(
        [
            "Sign you in with your account on this site openid",
            "See your name and username profile",
            "See your email address email",
            "Read your profile and notes read",
        ]
    )
    deny = page.get_by_role("button", name="Deny")
    allow = page.get_by_role("button", name="Allow")
    # Deny is as easy as Allow: the same size, the same look.
    deny_box, allow_box = deny.bounding_box(), allow.bounding_box()
    assert (deny_box["width"], deny_box["height"]) == (allow_box["width"], allow_box["height"])
    assert deny.get_attribute("class").replace("deny", "") == allow.get_attribute("class").replace(
        "allow", ""
    )
    screenshot(page, "consent", width=720, height=540)
    allow.click()

    # Back at the demo: the code was redeemed and the API answered with the profile.
    expect(page).to_have_url(re.compile(r"/demo/#latest$"))
    expect(latest(page)).to_contain_text("API call")
    expect(latest(page)).to_contain_text("200 OK")
    expect(latest(page)).to_contain_text('"username": "demo"')
    expect(page.locator(".dc-event h3")).to_have_text(
        [
            "API call",
            "UserInfo",
            "ID token",
            "Token request",
            "Authorization response",
            "Authorization request",
        ]
    )
    # OpenID Connect: the ID token was validated and names the user; UserInfo agrees.
    id_token_step = page.locator(".dc-event").filter(
        has=page.get_by_role("heading", name="ID token", exact=True)
    )
    expect(id_token_step).to_contain_text('"preferred_username": "demo"')
    expect(id_token_step).to_contain_text('"nonce"')
    userinfo_step = page.locator(".dc-event").filter(
        has=page.get_by_role("heading", name="UserInfo", exact=True)
    )
    expect(userinfo_step).to_contain_text("→ 200")
    token_step = page.locator(".dc-event", has_text="Token request")
    expect(token_step).to_contain_text('"token_type": "Bearer"')
    expect(token_step).to_contain_text(re.compile(r'"access_token": "ofat_\S{3}…"'))
    assert_no_whole_token(page)
    assert AccessToken.objects.filter(user=demo_user, client=demo_client).count() == 1
    screenshot(page, "demo-result", width=1100)

    # Refresh: new tokens, and the refresh token is rotated.
    old_refresh = page.locator(".dc-token dd").nth(1).inner_text()
    page.get_by_role("button", name="Refresh").click()
    expect(latest(page)).to_contain_text("Refresh")
    expect(latest(page)).to_contain_text("rotated")
    expect(page.locator(".dc-token dd").nth(1)).not_to_have_text(old_refresh)
    assert RefreshToken.objects.filter(client=demo_client, rotated_at__isnull=False).count() == 1
    page.get_by_role("button", name="Call the API").click()
    expect(latest(page)).to_contain_text("200 OK")

    # Revoke, then the API refuses the access token the demo still holds.
    page.get_by_role("button", name="Revoke").click()
    expect(latest(page)).to_contain_text("Revocation")
    expect(latest(page)).to_contain_text("→ 200")
    page.get_by_role("button", name="Call the API").click()
    expect(latest(page)).to_contain_text("401")
    expect(latest(page)).to_contain_text('error="invalid_token"')
    expect(latest(page).locator(".dc-tag")).to_have_text("refused")
    assert_no_whole_token(page)


def test_pages_are_served_under_a_strict_csp(page: Page, demo_user, demo_client):
    # The watch fails the test on any CSP violation; here, make sure there is a policy.
    for path in ("/", "/demo/", "/accounts/login/"):
        policy = page.goto(path).headers["content-security-policy"]
        assert "default-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
    connect_and_sign_in(page)
    expect(page).to_have_title("Allow Demo Client to use your account?")
    # Fetch the consent page again with the browser's cookies, to read its headers.
    consent = page.context.request.get(page.url)
    assert consent.status == 200
    policy = consent.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_deny_by_keyboard_on_a_phone(page: Page, demo_user, demo_client):
    page.set_viewport_size({"width": 375, "height": 740})
    connect_and_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Demo Client")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Deny is reachable with Tab and pressed with Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Deny":
            break
    else:
        pytest.fail("Tab never reached the Deny button")
    page.keyboard.press("Enter")

    expect(latest(page)).to_contain_text("error=access_denied")
    expect(latest(page)).to_contain_text("You chose Deny")
    expect(page.get_by_role("button", name="Call the API")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not AccessToken.objects.exists()
    assert not Consent.objects.exists()


def test_second_connect_skips_remembered_consent(page: Page, watch, demo_user, demo_client):
    connect_and_sign_in(page)
    page.get_by_role("button", name="Allow").click()
    expect(latest(page)).to_contain_text("200 OK")

    shown_before = watch.responses.count(("/oauth/authorize/", 200))
    page.get_by_role("button", name="Connect again").click()
    # Straight back: the provider remembered the consent and redirected with a new code.
    expect(latest(page)).to_contain_text("200 OK")
    expect(page.locator(".dc-event h3")).to_have_count(6)
    assert watch.responses.count(("/oauth/authorize/", 200)) == shown_before == 1
    assert AccessToken.objects.filter(user=demo_user, client=demo_client).count() == 2


def test_withdrawing_access_on_authorized_apps_page(page: Page, demo_user, demo_client):
    connect_and_sign_in(page)
    page.get_by_role("button", name="Allow").click()
    expect(latest(page)).to_contain_text("200 OK")

    page.get_by_role("link", name="Apps you have authorized").click()
    expect(page.get_by_role("heading", name="Demo Client")).to_be_visible()
    page.get_by_role("button", name="Revoke access for Demo Client").click()
    expect(page.get_by_role("status")).to_have_text("Demo Client can no longer use your account.")
    expect(page.get_by_text("You have not authorized any apps.")).to_be_visible()

    # The demo still holds its tokens, but the provider no longer honours them.
    page.goto("/demo/")
    page.get_by_role("button", name="Call the API").click()
    expect(latest(page)).to_contain_text("401")
    page.get_by_role("button", name="Refresh").click()
    expect(latest(page)).to_contain_text("invalid_grant")

    # The consent is forgotten too: connecting again asks again.
    page.get_by_role("button", name="Connect again").click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()


def test_signing_out_at_the_provider(page: Page, demo_user, demo_client):
    """OpenID Connect RP-Initiated Logout from the demo: out at the provider, back here."""
    connect_and_sign_in(page)
    page.get_by_role("button", name="Allow").click()
    expect(latest(page)).to_contain_text("200 OK")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/demo/#latest$"))
    expect(latest(page)).to_contain_text("Signed out")
    expect(latest(page)).to_contain_text("it signed you out there")
    # The provider asks for a sign-in again: the session there has ended.
    page.goto(page.url.split("/demo/")[0] + "/oauth/authorized-apps/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
