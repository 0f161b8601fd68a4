"""The registration endpoints' URLs; ``oauthflow.urls`` includes them when the app is
installed. They answer 404 while ``DYNAMIC_REGISTRATION`` is off."""

from django.urls import path

from . import views

urlpatterns = [
    path("oauth/register/", views.register, name="register"),
    path("oauth/register/<str:client_id>/", views.manage, name="register-client"),
]
