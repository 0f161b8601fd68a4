"""oauthflow: an OAuth 2.0 authorization server for Django."""

__version__ = "0.1.0"
