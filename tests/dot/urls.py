"""The test URLconf with DOT's old paths routed to oauthflow's views, as docs/from-dot.md
shows for clients not yet updated."""

from django.urls import path

from oauthflow import views as oauthflow_views
from tests.urls import urlpatterns as test_urlpatterns

urlpatterns = [
    *test_urlpatterns,
    # DOT's old paths, for clients not yet updated.
    path("o/authorize/", oauthflow_views.authorize),
    path("o/token/", oauthflow_views.token),
    path("o/revoke_token/", oauthflow_views.revoke),
    path("o/introspect/", oauthflow_views.introspect),
    path("o/authorized_tokens/", oauthflow_views.authorized_apps),
]
