"""URLs of the authorization server. ``path("", include("oauthflow.urls"))`` mounts them."""

app_name = "oauthflow"

urlpatterns = []
