"""The device authorization grant (RFC 8628): sign in on TVs, consoles and command lines.

A capability of its own: add ``"oauthflow.device"`` to ``INSTALLED_APPS`` (after
``"oauthflow"``) and its ``AppConfig.ready()`` plugs it into the server's registry:

* ``endpoint``: the device authorization endpoint, where a device gets a device code
  and a user code (RFC 8628 §3.1, §3.2);
* ``grant``: ``urn:ietf:params:oauth:grant-type:device_code`` at the token endpoint, the
  device's polling (§3.4, §3.5);
* ``user_code``: making, normalising and storing user codes (§6.1);
* ``polling``: the interval and ``slow_down``, kept on the row so every process sees them;
* ``guessing``: the limits on wrong user codes (§5.1), kept in the database;
* ``views``: the pages where the user enters the code and decides.

docs/device.md is the guide.
"""
