from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("oauthflow.urls")),
    # django-oauth-toolkit's endpoints, where the import tests have DOT issue real tokens.
    path("dot/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include("tests.testapp.urls")),
]
