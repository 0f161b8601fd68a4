"""Pushed authorization requests (RFC 9126): authorization parameters sent by the client
straight to the server, so the browser carries only a reference it cannot change.

A capability of its own: add ``"oauthflow.par"`` to ``INSTALLED_APPS`` (after
``"oauthflow"``) and its ``AppConfig.ready()`` plugs it in:

* ``endpoint``: the pushed authorization request endpoint (``/oauth/par/``): the client
  authenticates and POSTs the parameters, validated as the authorization endpoint would,
  and gets a ``request_uri`` (§2);
* ``resolver``: the authorization endpoint's ``request_uri`` (§4), used once, bound to its
  client, expiring after ``PAR_LIFETIME`` seconds;
* ``require``: ``require_pushed_authorization_requests`` per client and for the site.

docs/par.md is the guide.
"""
