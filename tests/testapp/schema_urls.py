"""A URLconf for the OpenAPI tests: the real authorization server URLs and a few protected
DRF views."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("api/notes", views.NoteViewSet, basename="note")

urlpatterns = [
    path("", include("oauthflow.urls")),
    path("api/read/", views.ReadView.as_view()),
    path("api/read-write/", views.ReadWriteView.as_view()),
    path("api/session-or-token/", views.SessionOrTokenView.as_view()),
    path("api/write-or-admin/", views.WriteOrAdminView.as_view()),
    *router.urls,
]
