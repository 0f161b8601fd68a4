"""The sign-in page in Chromium with DEBUG off, served as a deployment serves it: its
stylesheet is applied (WhiteNoise), not only reachable."""

from __future__ import annotations

import pytest

from tests.example.test_static_without_debug import example_without_debug

pytestmark = pytest.mark.live


def test_the_sign_in_page_is_styled_with_debug_off(chromium, tmp_path):
    context = chromium.new_context()
    try:
        page = context.new_page()
        with example_without_debug(tmp_path) as base:
            page.goto(f"{base}/accounts/login/")
            button = page.get_by_role("button", name="Sign in")
            # oauthflow.css paints the primary button in the accent colour (#1f5fbf).
            colour = button.evaluate("b => getComputedStyle(b).backgroundColor")
    finally:
        context.close()

    assert colour == "rgb(31, 95, 191)"
