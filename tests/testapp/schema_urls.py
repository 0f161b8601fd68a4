"""A URLconf for the OpenAPI tests: a few protected DRF views, and stand-ins for the
authorization server's authorize and token URLs (named as in ``oauthflow.urls``)."""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views


def stand_in(request):
    return HttpResponse()


router = SimpleRouter()
router.register("api/notes", views.NoteViewSet, basename="note")

oauthflow_patterns = (
    [
        path("oauth/authorize/", stand_in, name="authorize"),
        path("oauth/token/", stand_in, name="token"),
    ],
    "oauthflow",
)

urlpatterns = [
    path("", include(oauthflow_patterns)),
    path("api/read/", views.ReadView.as_view()),
    path("api/read-write/", views.ReadWriteView.as_view()),
    path("api/session-or-token/", views.SessionOrTokenView.as_view()),
    path("api/write-or-admin/", views.WriteOrAdminView.as_view()),
    *router.urls,
]
