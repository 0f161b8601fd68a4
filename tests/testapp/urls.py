from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("api/notes", views.NoteViewSet, basename="note")
router.register("api/unmapped", views.UnmappedViewSet, basename="unmapped")

urlpatterns = [
    path("api/read/", views.ReadView.as_view(), name="api-read"),
    path("api/read-profile/", views.ReadProfileView.as_view(), name="api-read-profile"),
    path("api/any-token/", views.AnyTokenView.as_view(), name="api-any-token"),
    path("api/misconfigured/", views.MisconfiguredView.as_view(), name="api-misconfigured"),
    path("api/read-write/", views.ReadWriteView.as_view(), name="api-read-write"),
    path(
        "api/read-write-profile/",
        views.ReadWriteProfileView.as_view(),
        name="api-read-write-profile",
    ),
    path("api/session-or-token/", views.SessionOrTokenView.as_view(), name="api-session-or-token"),
    path("api/session-first/", views.SessionFirstView.as_view(), name="api-session-first"),
    path("api/write-or-admin/", views.WriteOrAdminView.as_view(), name="api-write-or-admin"),
    path("api/read-and-user/", views.ReadAndUserView.as_view(), name="api-read-and-user"),
    path("api/user-then-read/", views.UserThenReadView.as_view(), name="api-user-then-read"),
    path("api/form/", views.FormView.as_view(), name="api-form"),
    path("plain/read/", views.plain_read, name="plain-read"),
    path("plain/read-profile/", views.plain_read_profile, name="plain-read-profile"),
    path("plain/any-token/", views.plain_any, name="plain-any-token"),
    path("plain/async/", views.plain_async, name="plain-async"),
    path("plain/write/", views.PlainWriteView.as_view(), name="plain-write"),
    path("plain/async-class/", views.PlainAsyncView.as_view(), name="plain-async-class"),
    path(
        "plain/misconfigured/", views.PlainMisconfiguredView.as_view(), name="plain-misconfigured"
    ),
    *router.urls,
]
