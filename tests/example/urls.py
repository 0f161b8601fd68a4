"""The demo client and the provider, without the example site's API: for the tests of the
demo client's own checks, which stop before any API call matters."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("demo/", include("democlient.urls")),
    path("", include("oauthflow.urls")),
]
