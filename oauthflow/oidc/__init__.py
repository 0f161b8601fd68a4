"""OpenID Connect: "sign in with this site" (Core 1.0 code flow, Discovery 1.0, UserInfo).

A capability of its own: add ``"oauthflow.oidc"`` to ``INSTALLED_APPS`` (after
``"oauthflow"``) and its ``AppConfig.ready()`` plugs it into the server's registry:

* ``id_token``: an extension of the authorization_code and refresh_token grants that adds
  a signed ID token to token responses for the ``openid`` scope;
* ``authentication``: the authorization request's OpenID Connect parameters (nonce,
  max_age, id_token_hint, claims, prompt=select_account) and the record of how the user
  signed in, kept per authorization;
* ``claims``: scopes to claims, the ``claims`` parameter, and what a client may see;
* ``discovery``: the entries it adds to the metadata document, served at both
  ``/.well-known/openid-configuration`` and ``/.well-known/oauth-authorization-server``;
* ``views``: UserInfo and the JWKS.

Keys are ``oauthflow.keys``; the subject identifier is ``oauthflow.subjects`` through the
adapter. docs/openid-connect.md is the guide.
"""
