from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # /oidc/authenticate/ (the login link), /oidc/callback/, /oidc/logout/.
    path("oidc/", include("mozilla_django_oidc.urls")),
]
