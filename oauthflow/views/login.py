"""A sign-in page for sites that have none: ``LOGIN_URL = "oauthflow:login"``.

Django's own ``LoginView`` (its ``next`` is checked against the site's hosts) with
oauthflow's template and the headers of oauthflow's other pages. A site with its own
sign-in page points LOGIN_URL there instead; the system check ``oauthflow.E010`` says when
LOGIN_URL names nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView as _LoginView
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_deny

from .pages import protect, unavailable_page


@method_decorator(xframe_options_deny, name="dispatch")
@method_decorator(unavailable_page, name="dispatch")
class LoginView(_LoginView):
    template_name = "oauthflow/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return protect(super().dispatch(request, *args, **kwargs))

    def get_initial(self) -> dict[str, Any]:
        # The client's guess at who signs in (OpenID Connect login_hint): a convenience.
        initial = super().get_initial()
        hint = self.request.GET.get("login_hint", "")
        if hint and len(hint) <= 150:
            initial["username"] = hint
        return initial


login = LoginView.as_view()
