"""The pushed authorization request endpoint's URL; ``oauthflow.urls`` includes it when
the app is installed."""

from django.urls import path

from . import views

urlpatterns = [path("oauth/par/", views.pushed_authorization, name="par")]
