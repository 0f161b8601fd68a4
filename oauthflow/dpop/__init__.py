"""DPoP (RFC 9449): access and refresh tokens bound to a key the client holds.

A capability of its own: add ``"oauthflow.dpop"`` to ``INSTALLED_APPS`` (after
``"oauthflow"``; an API on another host adds it alone) and its ``AppConfig.ready()`` plugs
it in:

* ``proof``: checking a DPoP proof JWT (§4.3), with joserfc;
* ``replay``: each proof's ``jti`` used once, in a store every process shares;
* ``nonce``: server-provided nonces (§8, §9), when ``DPOP_NONCES`` is on;
* ``token_endpoint``: a grant extension that binds the tokens a token request issues to
  the proof's key (``token_type`` DPoP, ``cnf.jkt``), binds public clients' refresh
  tokens, and honours ``dpop_jkt`` (§10) and a client's ``dpop_bound_access_tokens``;
* ``resource``: the ``DPoP`` authentication scheme for protected views (§7).

docs/dpop.md is the guide.
"""
