from django.urls import include, path
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from shared import Hello

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/open/", Hello.as_view()),
    path(
        "api/protected/",
        Hello.as_view(
            authentication_classes=[OAuth2Authentication],
            permission_classes=[TokenHasScope],
            required_scopes=["read"],
        ),
    ),
]
