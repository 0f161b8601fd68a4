"""The admin's lists fit a 1280-pixel screen: no column is cut off or scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from oauthflow import tokens
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.mark.parametrize("model", ["accesstoken", "refreshtoken", "authorizationcode", "client"])
def test_admin_lists_fit_1280_pixels(page: Page, demo_client, model):
    admin = factories.UserFactory(username="boss", is_staff=True, is_superuser=True)
    admin.set_password("boss-password")
    admin.save()
    long_name = factories.UserFactory(username="margaret.hamilton")
    for factory, prefix in (
        (factories.AccessTokenFactory, tokens.ACCESS_TOKEN_PREFIX),
        (factories.RefreshTokenFactory, tokens.REFRESH_TOKEN_PREFIX),
        (factories.AuthorizationCodeFactory, tokens.AUTHORIZATION_CODE_PREFIX),
    ):
        # The widest hint there can be (its tail is random, and in a proportional font
        # some tails draw wider than others), so the check cannot pass or fail by chance.
        value = f"{prefix}_{'W' * 43}"
        factory(client=demo_client, user=long_name, scope="read write profile", value=value)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("boss-password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/oauthflow/{model}/")
    assert page.locator("#result_list").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Nor does the list itself, within its box beside the filters.
    table, box = page.evaluate(
        "[document.querySelector('#result_list').scrollWidth,"
        " document.querySelector('#changelist .results').clientWidth]"
    )
    assert table <= box, (table, box)
