"""The device flow's URLs; ``oauthflow.urls`` includes them when the app is installed."""

from django.urls import path

from . import views

urlpatterns = [
    path("oauth/device-authorization/", views.device_authorization, name="device-authorization"),
    path("oauth/device/", views.enter_code, name="device"),
    path("oauth/device/confirm/", views.confirm, name="device-confirm"),
    path("oauth/device/done/", views.done, name="device-done"),
]
