from django.urls import include, path
from shared import Hello

from .views import (
    HandJWTAuthentication,
    HandLookupAuthentication,
    RoundTripAuthentication,
    hand_jwt_token,
    hand_token,
    resource_protection,
)

urlpatterns = [
    path("", include("oauthflow.urls")),
    # The ceiling: the same view with no protection at all.
    path("api/open/", Hello.as_view()),
    # The floor: the same view doing by hand the one indexed lookup.
    path("api/hand/", Hello.as_view(authentication_classes=[HandLookupAuthentication])),
    # Bounds, not targets: one database round trip and nothing else …
    path("api/roundtrip/", Hello.as_view(authentication_classes=[RoundTripAuthentication])),
    # … and a client_credentials endpoint doing oauthflow's two statements by hand.
    path("hand/token/", hand_token),
    # JWT access tokens (RFC 9068): the same two bounds with a signature, written by hand.
    path("api/hand-jwt/", Hello.as_view(authentication_classes=[HandJWTAuthentication])),
    path("hand/jwt-token/", hand_jwt_token),
]

_protection = resource_protection()
if _protection is not None:
    authentication, permission = _protection
    urlpatterns.append(
        path(
            "api/protected/",
            Hello.as_view(
                authentication_classes=[authentication],
                permission_classes=[permission],
                required_scopes=["read"],
            ),
        )
    )
