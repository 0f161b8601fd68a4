from django.urls import path

from . import views

urlpatterns = [
    path("plain/read/", views.plain_read),
    path("api/read/", views.ReadView.as_view()),
    path("_harness/state/", views.state),
    path("_harness/query/", views.query),
    path("_harness/reset/", views.reset),
    path("_harness/advance-clock/", views.advance_clock),
]
