"""Dynamic client registration (RFC 7591) and management (RFC 7592): clients register
themselves at ``/oauth/register/`` and read, update or delete their registration at the
``registration_client_uri`` they are given.

A capability of its own: add ``"oauthflow.registration"`` to ``INSTALLED_APPS`` (after
``"oauthflow"``) and set ``OAUTHFLOW["DYNAMIC_REGISTRATION"]``; its ``AppConfig.ready()``
plugs it in:

* ``guard``: who may register (an initial access token, used up by a conditional
  UPDATE; or anyone, in the open mode) and who may manage a registration (its
  registration access token);
* ``metadata``: the client metadata document read into a ``Client``, validated by
  ``Client.full_clean()`` as the admin validates it, and written back out;
* ``views``: the two endpoints, JSON in and out;
* ``models``: the initial access tokens, and each registered client's registration.

docs/registration.md is the guide.
"""
