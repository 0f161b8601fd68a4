from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from .api import MeView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # For pages that name no icon (the admin, error pages), so browsers find one.
    path("favicon.ico", RedirectView.as_view(url=static("oauthflow/icon.svg"))),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/me/", MeView.as_view(), name="api-me"),
    # The pretend third-party app: it reaches the provider only over HTTP.
    path("demo/", include("democlient.urls")),
    path("", include("oauthflow.urls")),
]
