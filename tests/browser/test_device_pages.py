"""The device flow's pages (RFC 8628 §3.3) in real headless Chromium, on the example site.

The device is plain HTTP against the live server (``requests``): it asks for codes and
polls the token endpoint. The person uses the browser: opens the address the device
shows, signs in, checks the code, decides, and goes back to the device, which then gets
its tokens (or ``access_denied``). Every page is watched as in the other browser tests
(tests/browser/conftest.py): a console error, a CSP violation, an uncaught error or a
failed request fails the test.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from oauthflow import tokens
from oauthflow.device.models import DeviceAuthorization, UserCodeFailures
from oauthflow.models import AccessToken

from .conftest import DEMO_PASSWORD, DEMO_USERNAME

pytestmark = [pytest.mark.browser, pytest.mark.live]

GRANTS = "urn:ietf:params:oauth:grant-type:device_code refresh_token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
VERIFY = "/oauth/device/"
CONFIRM = "/oauth/device/confirm/"
DONE = "/oauth/device/done/"
CLIENT_NAME = "Living-room TV"
WRONG_CODE_ERROR = (
    "That code is not right, or it has expired. Check the code on your device; "
    "if it has expired, start again there."
)
LOCKED_ERROR = "Too many wrong codes. For your safety, entering codes is paused for 15 minutes."


class Device:
    """The TV: it talks to the server over HTTP only, never through the browser."""

    def __init__(self, base_url: str, client) -> None:
        self.base_url = base_url
        self.client = client

    def start(self, scope: str = "read write") -> dict:
        response = requests.post(
            self.base_url + "/oauth/device-authorization/",
            data={"client_id": self.client.client_id, "scope": scope},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def poll(self, device_code: str) -> requests.Response:
        return requests.post(
            self.base_url + "/oauth/token/",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": device_code,
                "client_id": self.client.client_id,
            },
            timeout=10,
        )


@pytest.fixture
def device(live_server, example_site):
    from tests import factories

    tv = factories.PublicClientFactory(name=CLIENT_NAME, grant_types=GRANTS, redirect_uris="")
    return Device(live_server.url, tv)


@pytest.fixture
def documents(page: Page) -> list:
    """Every page (document) response the browser got, with the request's method."""
    seen: list = []
    page.context.on(
        "response", lambda r: seen.append(r) if r.request.resource_type == "document" else None
    )
    return seen


def row(device_code: str) -> DeviceAuthorization:
    return DeviceAuthorization.objects.get(digest=tokens.digest(device_code))


def error_of(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    return response.json()["error"]


def sign_in(page: Page) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(DEMO_USERNAME)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_complete_uri_and_continue(page: Page, documents: list, codes: dict) -> None:
    """The person opens verification_uri_complete, signs in, and presses Continue."""
    page.goto(codes["verification_uri_complete"])
    # Sent to sign in first, and brought back to the code afterwards.
    login = urlsplit(page.url)
    assert login.path == "/accounts/login/"
    assert parse_qs(login.query)["next"] == [f"{VERIFY}?user_code={codes['user_code']}"]
    sign_in(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Connect a device")
    assert urlsplit(page.url).path == VERIFY
    field = page.get_by_label("Code")
    expect(field).to_have_value(codes["user_code"])
    expect(field).to_be_enabled()
    assert_no_inline_script(page)
    # Filled in, but not sent for the person: nothing was posted, nothing decided.
    assert [r.request.method for r in documents if urlsplit(r.url).path == VERIFY] == ["GET"] * 2
    pending = row(codes["device_code"])
    assert pending.status == DeviceAuthorization.PENDING
    assert pending.user is None and pending.decided_at is None

    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(rf"^Allow {CLIENT_NAME} on your device"))


def assert_consent_page(page: Page, codes: dict) -> None:
    assert urlsplit(page.url).path == CONFIRM
    expect(page.locator(".oauthflow-signed-in")).to_have_text(f"Signed in as {DEMO_USERNAME}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{CLIENT_NAME} on another device wants to use your account"
    )
    # The example site's descriptions of the scopes, each with its name.
    expect(
        page.get_by_role("list", name=f"If you allow it, {CLIENT_NAME} will be able to:")
    ).to_be_visible()
    expect(page.locator(".oauthflow-scopes li")).to_have_text(
        ["Read your profile and notes read", "Create and change your notes write"]
    )
    warning = page.get_by_role("note")
    expect(warning).to_contain_text("This request was started on another device")
    expect(warning).to_contain_text("If someone sent you the code, deny.")
    expect(warning.locator(".oauthflow-code")).to_have_text(codes["user_code"])


def assert_no_inline_script(page: Page) -> None:
    inline = page.evaluate(
        "[...document.scripts].filter(s => !s.src).length"
        " + document.querySelectorAll('[onclick],[onload],[onsubmit],[onerror]').length"
    )
    assert inline == 0, page.url


def assert_protected(response) -> None:
    """Served under the example site's strict CSP, and never in a frame."""
    headers = response.all_headers()
    policy = headers["content-security-policy"]
    directives = dict(
        part.strip().partition(" ")[::2] for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == "'self'", policy
    assert directives["frame-ancestors"] == "'none'", policy
    assert "script-src" not in directives or "unsafe-inline" not in directives["script-src"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    assert headers["x-frame-options"] == "DENY"
    assert "no-store" in headers["cache-control"] or "max-age=0" in headers["cache-control"]


def test_allow_from_the_complete_uri_then_the_device_gets_tokens(
    page: Page, documents, device, demo_user
):
    codes = device.start()
    assert codes["verification_uri"] == device.base_url + VERIFY
    assert re.fullmatch(r"[B-Z]{4}-[B-Z]{4}", codes["user_code"])
    # The device polls while the person is busy: nothing to give yet.
    assert error_of(device.poll(codes["device_code"])) == "authorization_pending"

    open_complete_uri_and_continue(page, documents, codes)
    assert_consent_page(page, codes)
    assert_no_inline_script(page)
    assert row(codes["device_code"]).status == DeviceAuthorization.PENDING  # still undecided

    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Done: go back to your device")
    expect(page.get_by_role("status")).to_contain_text(
        f"{CLIENT_NAME} can now use your account on that device."
    )
    assert urlsplit(page.url).path == DONE
    assert_no_inline_script(page)
    decided = row(codes["device_code"])
    assert (decided.status, decided.user) == (DeviceAuthorization.APPROVED, demo_user)

    # Every page of the flow was served under the strict CSP and refuses to be framed.
    pages = [(r.request.method, urlsplit(r.url).path, r.status) for r in documents]
    assert pages[-5:] == [
        ("GET", VERIFY, 200),
        ("POST", VERIFY, 302),
        ("GET", CONFIRM, 200),
        ("POST", CONFIRM, 302),
        ("GET", DONE, 200),
    ], pages
    served = [r for r in documents if r.status == 200 and urlsplit(r.url).path.startswith(VERIFY)]
    assert {urlsplit(r.url).path for r in served} == {VERIFY, CONFIRM, DONE}
    for response in served:
        assert_protected(response)

    # The device's next poll gets tokens for the person who allowed it, once.
    response = device.poll(codes["device_code"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "read write" and body["token_type"] == "Bearer"
    issued = AccessToken.objects.get(digest=tokens.digest(body["access_token"]))
    assert (issued.user, issued.client) == (demo_user, device.client)
    me = requests.get(
        device.base_url + "/api/me/",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200 and me.json()["username"] == DEMO_USERNAME
    assert error_of(device.poll(codes["device_code"])) == "invalid_grant"


def test_deny_then_the_device_is_refused(page: Page, documents, device, demo_user):
    codes = device.start()

    open_complete_uri_and_continue(page, documents, codes)
    assert_consent_page(page, codes)
    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Request denied")
    expect(page.get_by_role("status")).to_have_text(
        f"Nothing was shared with {CLIENT_NAME}. You can close this page."
    )
    assert urlsplit(page.url).path == DONE
    decided = row(codes["device_code"])
    assert (decided.status, decided.user) == (DeviceAuthorization.DENIED, demo_user)
    assert error_of(device.poll(codes["device_code"])) == "access_denied"
    assert not AccessToken.objects.exists()


def take_expected_errors(watch, base_url: str, *statuses: int) -> None:
    """The code page answers a wrong code with 400 and a lockout with 429, on purpose;
    Chromium logs each such page as a console error, which the watch counts as a
    problem. Take out exactly those, in order, and check each was there: anything else
    still fails the test."""
    for status in statuses:
        expected = (
            f"console error: Failed to load resource: the server responded with a status of "
            f"{status} "
        )
        where = f"'url': '{base_url}{VERIFY}'"
        found = [p for p in watch.problems if p.startswith(expected) and where in p]
        assert found, (status, watch.problems)
        watch.problems.remove(found[0])


def focus_by_tab(page: Page, name: str) -> None:
    """Press Tab until the button called ``name`` has the focus."""
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    pytest.fail(f"Tab never reached {name!r}")


def test_typing_the_code_by_keyboard_alone(page: Page, watch, device, demo_user):
    """The code typed by hand, in lower case with a space, and a wrong one first; the
    field is labelled, the error is announced and tied to the field; no mouse at all
    (bar the sign-in form)."""
    codes = device.start()
    page.goto(VERIFY)
    sign_in(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Connect a device")
    field = page.get_by_role("textbox", name="Code")
    # Labelled by a <label for=…>, not only by a placeholder or aria-label.
    field_id = field.get_attribute("id")
    expect(page.locator(f'label[for="{field_id}"]')).to_have_text("Code")
    expect(field).to_have_accessible_name("Code")
    expect(field).to_have_value("")
    expect(field).to_have_accessible_description(re.compile(r"^Enter the code your TV"))
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_have_count(0)
    # The empty form puts the cursor in the field; Tab goes on to Continue and back.
    expect(field).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(field).to_be_focused()

    shown = codes["user_code"]
    wrong = ("C" if shown[0] == "B" else "B") + shown[1:]
    page.keyboard.type(wrong.lower().replace("-", " "))
    page.keyboard.press("Enter")

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(WRONG_CODE_ERROR)
    field = page.get_by_role("textbox", name="Code")
    described_by = (field.get_attribute("aria-describedby") or "").split()
    assert alert.get_attribute("id") in described_by
    expect(field).to_have_accessible_description(re.compile(re.escape(WRONG_CODE_ERROR)))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("")
    expect(field).to_be_focused()  # ready for another try, without reaching for the mouse
    assert UserCodeFailures.objects.count() == 2  # the user and the address, once each

    page.keyboard.type(shown.lower().replace("-", " "))
    expect(field).to_have_value(shown.lower().replace("-", " "))
    page.keyboard.press("Enter")

    expect(page).to_have_title(re.compile(rf"^Allow {CLIENT_NAME} on your device"))
    assert_consent_page(page, codes)
    focus_by_tab(page, "Allow")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Done: go back to your device")
    assert row(codes["device_code"]).status == DeviceAuthorization.APPROVED
    assert device.poll(codes["device_code"]).status_code == 200
    take_expected_errors(watch, device.base_url, 400)


def test_too_many_wrong_codes_disable_the_form(page: Page, watch, device, demo_user, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_USER_FAILURES": 2}
    codes = device.start()
    shown = codes["user_code"]
    wrong = ("C" if shown[0] == "B" else "B") + shown[1:]
    page.goto(VERIFY)
    sign_in(page)
    field = page.get_by_label("Code")
    continue_button = page.get_by_role("button", name="Continue")

    field.fill(wrong)
    continue_button.click()
    expect(page.get_by_role("alert")).to_have_text(WRONG_CODE_ERROR)
    expect(field).to_be_enabled()
    expect(continue_button).to_be_enabled()

    field.fill(wrong)
    continue_button.click()
    expect(page.get_by_role("alert")).to_have_text(LOCKED_ERROR)
    expect(field).to_be_disabled()
    expect(continue_button).to_be_disabled()
    expect(field).to_have_accessible_description(re.compile(re.escape(LOCKED_ERROR)))

    # Coming back, even with the right code in the address, finds the form still shut.
    page.goto(codes["verification_uri_complete"])
    expect(page.get_by_role("alert")).to_have_text(LOCKED_ERROR)
    expect(field).to_have_value(shown)
    expect(field).to_be_disabled()
    expect(continue_button).to_be_disabled()
    assert sorted(UserCodeFailures.objects.values_list("failures", flat=True)) == [2, 2]
    assert row(codes["device_code"]).status == DeviceAuthorization.PENDING
    assert error_of(device.poll(codes["device_code"])) == "authorization_pending"
    take_expected_errors(watch, device.base_url, 400, 429)


def test_the_code_page_cannot_be_framed(chromium, live_server, device, demo_user):
    """A page of this site's own origin frames the code page: the browser refuses to
    show it (X-Frame-Options and CSP frame-ancestors), though the server answered."""
    context = chromium.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(VERIFY)
        sign_in(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Connect a device")

        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        framer = live_server.url + "/framing-test/"
        page.route(
            framer,
            lambda route: route.fulfill(
                content_type="text/html",
                body=f'<!doctype html><title>Framer</title><iframe src="{VERIFY}"></iframe>',
            ),
        )
        with page.expect_response(lambda r: urlsplit(r.url).path == VERIFY) as framed:
            page.goto(framer)
        # Signed in (same site, so the session cookie went along): the real code page.
        assert framed.value.status == 200
        assert_protected(framed.value)
        # Chromium says which rule stopped it (CSP's, which overrides X-Frame-Options).
        for _ in range(100):
            if any("frame-ancestors 'none'" in text and "blocked" in text for text in console):
                break
            page.wait_for_timeout(50)
        else:
            pytest.fail(f"the frame was not blocked: {console}")
        frame = page.frames[1]
        assert frame.url != live_server.url + VERIFY, frame.url
        assert frame.locator("#oauthflow-user-code").count() == 0
    finally:
        context.close()
