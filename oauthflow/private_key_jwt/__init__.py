"""Client authentication with keys: ``private_key_jwt`` (RFC 7523 §2.2, OpenID Connect
Core §9). Add ``"oauthflow.private_key_jwt"`` to ``INSTALLED_APPS``; see
``docs/private-key-jwt.md``."""
