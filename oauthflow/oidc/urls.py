"""OpenID Connect's URLs; ``oauthflow.urls`` includes them when the app is installed."""

from django.urls import path

from ..views.metadata import metadata
from . import logout, views

urlpatterns = [
    path("oauth/userinfo/", views.userinfo, name="userinfo"),
    path("oauth/logout/", logout.end_session, name="end-session"),
    path(".well-known/openid-configuration", metadata, name="openid-configuration"),
]
