"""URLs of the authorization server.

Include them at the site root, ``path("", include("oauthflow.urls"))``: the endpoints live
under ``oauth/`` and the RFC 8414 metadata must sit at ``/.well-known/``.

URL names (namespace ``oauthflow``): ``authorize``, ``token``, ``revoke``, ``introspect``,
``authorized-apps``, ``metadata``.
"""

app_name = "oauthflow"

urlpatterns: list = []
