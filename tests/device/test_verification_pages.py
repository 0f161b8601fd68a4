"""The user's pages: enter the code, decide, done (RFC 8628 §3.3), and the limits on
guessing codes (§5.1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oauthflow import signals
from oauthflow.device import guessing, user_code
from oauthflow.device.models import DeviceAuthorization, UserCodeFailures
from oauthflow.models import Consent
from tests import factories

from .helpers import CONFIRM, DONE, VERIFY, approve, codes, decide, enter

pytestmark = pytest.mark.django_db


def _wrong_code(right: str) -> str:
    """A well-formed code that is not ``right``."""
    code = user_code.normalise(right)
    return ("C" if code[0] == "B" else "B") + code[1:]


def test_the_pages_need_a_signed_in_user(client, tv):
    device = codes(client, tv)

    for url in (VERIFY + "?user_code=" + device["user_code"], CONFIRM, DONE):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_complete_uri_fills_in_the_code_but_does_not_submit_it(client, tv, signed_in):
    device = codes(client, tv)

    page = signed_in.get(VERIFY, {"user_code": device["user_code"].lower().replace("-", " ")})

    assert page.status_code == 200
    assert f'value="{device["user_code"]}"' in page.content.decode()
    row = DeviceAuthorization.objects.get()
    assert row.status == DeviceAuthorization.PENDING  # nothing decided by a GET
    assert signed_in.session.get("oauthflow_device") is None


def test_a_hostile_prefill_is_not_echoed(signed_in):
    page = signed_in.get(VERIFY, {"user_code": '"><script>alert(1)</script>'})

    assert page.status_code == 200
    assert "<script>alert" not in page.content.decode()
    assert 'value=""' in page.content.decode()


@pytest.mark.parametrize("typed", ["{}", "{} ", "{lower}", "{nodash}", "{spaced}"])
def test_case_spaces_and_dashes_do_not_matter(client, tv, signed_in, typed):
    device = codes(client, tv)
    shown = device["user_code"]
    entry = typed.format(
        shown,
        lower=shown.lower(),
        nodash=shown.replace("-", ""),
        spaced=" ".join(shown.replace("-", "")),
    )

    response = enter(signed_in, entry)

    assert response.status_code == 302
    assert response["Location"] == CONFIRM


def test_the_consent_page_names_the_client_the_scopes_and_the_other_device(client, tv, signed_in):
    device = codes(client, tv, scope="read write")
    enter(signed_in, device["user_code"])

    page = signed_in.get(CONFIRM)

    text = page.content.decode()
    assert page.status_code == 200
    assert "Living-room TV" in text
    assert "Read your data" in text and "Change your data" in text
    assert device["user_code"] in text
    assert "started on another device" in text
    # Deny is the form's first button: Enter shares nothing.
    assert text.index('value="deny"') < text.index('value="allow"')


def test_the_pages_cannot_be_framed_and_run_no_inline_script(client, tv, signed_in):
    device = codes(client, tv)
    for response in (
        signed_in.get(VERIFY),
        enter(signed_in, device["user_code"]),
        signed_in.get(CONFIRM),
    ):
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        assert b"<script" not in response.content


def test_allow_then_done(client, tv, signed_in, user, record, committed):
    granted = record(signals.authorization_granted)
    device = codes(client, tv)

    with committed():
        response = approve(signed_in, device["user_code"])

    assert response.status_code == 302 and response["Location"] == DONE
    row = DeviceAuthorization.objects.get()
    assert (row.status, row.user) == (DeviceAuthorization.APPROVED, user)
    assert row.decided_at is not None
    done = signed_in.get(DONE)
    assert "go back to your device" in done.content.decode()
    assert granted and granted[0]["client"] == tv and granted[0]["scope"] == "read"
    # The device flow always asks: nothing is remembered to skip a later page.
    assert not Consent.objects.exists()


def test_deny_then_done(client, tv, signed_in, record, committed):
    denied = record(signals.authorization_denied)
    device = codes(client, tv)

    with committed():
        approve(signed_in, device["user_code"], decision="deny")

    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.DENIED
    assert "Request denied" in signed_in.get(DONE).content.decode()
    assert denied


def test_a_request_is_decided_once(client, tv, signed_in):
    device = codes(client, tv)
    approve(signed_in, device["user_code"], decision="deny")

    # The session no longer holds it, and the code no longer matches a waiting request.
    assert signed_in.post(CONFIRM, {"decision": "allow"}).status_code == 400
    assert enter(signed_in, device["user_code"]).status_code == 400
    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.DENIED


def test_a_request_that_expires_on_the_consent_page_cannot_be_approved(client, tv, signed_in):
    device = codes(client, tv)
    enter(signed_in, device["user_code"])
    DeviceAuthorization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = decide(signed_in, "allow")

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.PENDING


def test_no_decision_is_invalid_request(client, tv, signed_in):
    device = codes(client, tv)
    enter(signed_in, device["user_code"])

    assert decide(signed_in, "maybe").status_code == 400
    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.PENDING


@pytest.mark.parametrize("stored", [None, "12", {"pk": "1"}, {"pk": 10**12}, ["x"]])
def test_a_tampered_session_gets_an_error_page(signed_in, stored):
    session = signed_in.session
    session["oauthflow_device"] = stored
    session.save()

    response = signed_in.get(CONFIRM)

    assert response.status_code == 400


def test_the_done_page_without_a_decision_goes_back_to_the_form(signed_in):
    response = signed_in.get(DONE)

    assert response.status_code == 302 and response["Location"] == VERIFY


def test_the_code_is_bound_to_the_user_who_entered_it(client, tv, signed_in):
    device = codes(client, tv)
    enter(signed_in, device["user_code"])
    other = factories.UserFactory(username="mallory")
    from django.test import Client as Browser

    mallory = Browser()
    mallory.force_login(other)

    # Another session has nothing to decide.
    assert mallory.post(CONFIRM, {"decision": "allow"}).status_code == 400
    assert DeviceAuthorization.objects.get().user is None


# Guessing ---------------------------------------------------------------------------------


def test_a_wrong_code_says_so_and_counts(client, tv, signed_in):
    device = codes(client, tv)

    response = enter(signed_in, _wrong_code(device["user_code"]))

    assert response.status_code == 400
    assert "not right, or it has expired" in response.content.decode()
    assert UserCodeFailures.objects.filter(failures=1).count() == 2  # the user, the address


def test_a_malformed_entry_is_explained_and_not_counted(signed_in):
    response = enter(signed_in, "AEIO-U123")

    assert response.status_code == 400
    assert "8 letters" in response.content.decode()
    assert not UserCodeFailures.objects.exists()


def test_too_many_wrong_codes_lock_the_user_out_even_with_the_right_one(
    client, tv, signed_in, settings
):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_USER_FAILURES": 3}
    device = codes(client, tv)
    wrong = _wrong_code(device["user_code"])
    assert [enter(signed_in, wrong).status_code for _ in range(2)] == [400, 400]

    third = enter(signed_in, wrong)

    assert third.status_code == 429
    assert "Too many wrong codes" in third.content.decode()
    assert "15 minutes" in third.content.decode()
    assert enter(signed_in, device["user_code"]).status_code == 429
    page = signed_in.get(VERIFY)
    assert "disabled" in page.content.decode()


def test_the_lockout_ends_with_the_window(client, tv, signed_in, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_USER_FAILURES": 1}
    device = codes(client, tv)
    assert enter(signed_in, _wrong_code(device["user_code"])).status_code == 429

    UserCodeFailures.objects.update(window_ends_at=timezone.now() - timedelta(seconds=1))

    assert enter(signed_in, device["user_code"]).status_code == 302


def test_the_address_limit_holds_across_accounts(client, tv, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "DEVICE_ADDRESS_FAILURES": 4}
    device = codes(client, tv)
    wrong = _wrong_code(device["user_code"])
    from django.test import Client as Browser

    statuses = []
    for n in range(3):
        browser = Browser(REMOTE_ADDR="198.51.100.7")
        browser.force_login(factories.UserFactory(username=f"guesser{n}"))
        statuses += [enter(browser, wrong).status_code for _ in range(2)]

    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429, 429]
    # Another address, and another user, are not held back.
    elsewhere = Browser(REMOTE_ADDR="203.0.113.1")
    elsewhere.force_login(factories.UserFactory(username="bob"))
    assert enter(elsewhere, device["user_code"]).status_code == 302


def test_the_counts_keep_no_address_or_user_id_in_clear(client, tv, signed_in, user):
    device = codes(client, tv)
    enter(signed_in, _wrong_code(device["user_code"]))

    keys = list(UserCodeFailures.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert all(len(k) == 64 and "127.0.0.1" not in k for k in keys)


def test_the_adapter_chooses_the_address(client, tv, signed_in, settings):
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "ADAPTER": "tests.device.test_verification_pages.ForwardedAdapter",
        "DEVICE_ADDRESS_FAILURES": 1,
        "DEVICE_USER_FAILURES": 100,
    }
    device = codes(client, tv)

    first = signed_in.post(
        VERIFY, {"user_code": _wrong_code(device["user_code"])}, HTTP_X_TEST_ADDRESS="192.0.2.1"
    )
    other = signed_in.post(
        VERIFY, {"user_code": _wrong_code(device["user_code"])}, HTTP_X_TEST_ADDRESS="192.0.2.2"
    )

    assert first.status_code == 429 and other.status_code == 429
    assert UserCodeFailures.objects.filter(failures=1).count() == 2  # two addresses
    assert UserCodeFailures.objects.filter(failures=2).count() == 1  # one user


class ForwardedAdapter:
    def __init__(self):
        from oauthflow.adapter import DefaultAdapter

        self._default = DefaultAdapter()

    def __getattr__(self, name):
        return getattr(self._default, name)

    def get_client_address(self, request):
        return request.headers.get("X-Test-Address", "")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=st.text(max_size=80) | st.from_regex(r"[A-Za-z \-]{0,20}", fullmatch=True))
def test_any_entry_gets_a_page_never_a_500(client, tv, signed_in, entry):
    # The examples share one test's database: wrong codes add up, and a locked-out user
    # gets 429 whatever they type.
    locked = guessing.lockout(signed_in_request(signed_in)) is not None

    response = signed_in.post(VERIFY, {"user_code": entry})

    assert response.status_code in (302, 400, 429)
    if user_code.normalise(entry) is None:
        assert response.status_code == (429 if locked else 400)
    elif not locked:
        assert response.status_code in (302, 400, 429)  # 429: this very guess hit the limit


@settings(max_examples=300)
@given(entry=st.text(max_size=100))
def test_normalise_is_total_and_yields_only_codes(entry):
    code = user_code.normalise(entry)

    assert code is None or (len(code) == 8 and set(code) <= set(user_code.ALPHABET))


@given(code=st.text(alphabet=user_code.ALPHABET, min_size=8, max_size=8))
def test_every_shown_code_reads_back(code):
    assert user_code.normalise(user_code.display(code)) == code
    assert user_code.normalise(user_code.display(code).lower()) == code


def test_a_consent_form_decides_only_the_request_it_showed(client, tv, signed_in):
    first = codes(client, tv)
    enter(signed_in, first["user_code"])
    shown = signed_in.get(CONFIRM).content.decode()
    form = re.search(r'name="form" value="([^"]+)"', shown).group(1)
    # A second code entered in another tab replaces the first in the session...
    other_client = factories.PublicClientFactory(
        name="Other", grant_types="urn:ietf:params:oauth:grant-type:device_code"
    )
    second = codes(client, other_client, scope="read write")
    enter(signed_in, second["user_code"])

    # ...and the first tab's Allow is refused rather than approving the second.
    response = signed_in.post(CONFIRM, {"decision": "allow", "form": form})

    assert response.status_code == 400
    assert "out of date" in response.content.decode()
    assert set(DeviceAuthorization.objects.values_list("status", flat=True)) == {"pending"}


def test_a_right_code_is_not_counted(client, tv, signed_in):
    device = codes(client, tv)
    enter(signed_in, _wrong_code(device["user_code"]))

    assert enter(signed_in, device["user_code"]).status_code == 302

    assert set(UserCodeFailures.objects.values_list("failures", flat=True)) == {1}


def test_ipv6_addresses_count_by_their_64(client, tv, settings):
    settings.OAUTHFLOW = {
        **settings.OAUTHFLOW,
        "DEVICE_ADDRESS_FAILURES": 2,
        "DEVICE_USER_FAILURES": 100,
    }
    device = codes(client, tv)
    from django.test import Client as Browser

    statuses = []
    for n in range(3):
        browser = Browser(REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
        browser.force_login(factories.UserFactory(username=f"v6-{n}"))
        statuses.append(enter(browser, _wrong_code(device["user_code"])).status_code)

    assert statuses == [400, 429, 429]


def signed_in_request(http):
    """A request as the signed-in test client's user makes it (for the lockout check)."""
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    request = RequestFactory().get(VERIFY)
    request.session = http.session
    request.user = get_user(request)
    return request
