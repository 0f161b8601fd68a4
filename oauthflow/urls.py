"""URLs of the authorization server.

Include them at the site root, ``path("", include("oauthflow.urls"))``: the endpoints live
under ``oauth/`` and the RFC 8414 metadata must sit at ``/.well-known/``.

URL names (namespace ``oauthflow``): ``authorize``, ``token``, ``revoke``, ``introspect``,
``authorized-apps``, ``metadata``, ``jwks``, and ``login`` (a sign-in page for sites without
their own: ``LOGIN_URL = "oauthflow:login"``). With ``oauthflow.oidc`` installed also
``userinfo``, ``end-session`` and ``openid-configuration``; with ``oauthflow.device``,
``device-authorization``, ``device``, ``device-confirm`` and ``device-done``; with
``oauthflow.par``, ``par``; with ``oauthflow.registration``, ``register`` and
``register-client``.
"""

from django.apps import apps
from django.urls import path

from . import views

app_name = "oauthflow"

urlpatterns = [
    path("oauth/authorize/", views.authorize, name="authorize"),
    path("oauth/token/", views.token, name="token"),
    path("oauth/revoke/", views.revoke, name="revoke"),
    path("oauth/introspect/", views.introspect, name="introspect"),
    path("oauth/authorized-apps/", views.authorized_apps, name="authorized-apps"),
    path("oauth/login/", views.login, name="login"),
    path("oauth/jwks/", views.jwks, name="jwks"),
    path(".well-known/oauth-authorization-server", views.metadata, name="metadata"),
]

if apps.is_installed("oauthflow.oidc"):
    from .oidc.urls import urlpatterns as oidc_urlpatterns

    urlpatterns += oidc_urlpatterns

if apps.is_installed("oauthflow.par"):
    from .par.urls import urlpatterns as par_urlpatterns

    urlpatterns += par_urlpatterns

if apps.is_installed("oauthflow.device"):
    from .device.urls import urlpatterns as device_urlpatterns

    urlpatterns += device_urlpatterns

if apps.is_installed("oauthflow.registration"):
    from .registration.urls import urlpatterns as registration_urlpatterns

    urlpatterns += registration_urlpatterns
