"""An API on another host: a Django project without oauthflow installed and without a
database, that accepts the provider's JWT access tokens (``tests/jwt/test_standalone_api``
runs it in a process of its own)."""
