from django.urls import path

from . import views

app_name = "democlient"

urlpatterns = [
    path("", views.demo, name="demo"),
    path("connect", views.connect, name="connect"),
    path("callback", views.callback, name="callback"),
    path("call-api", views.call_api, name="call-api"),
    path("refresh", views.refresh, name="refresh"),
    path("revoke", views.revoke, name="revoke"),
    path("start-over", views.start_over, name="start-over"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("signed-out", views.signed_out, name="signed-out"),
]
