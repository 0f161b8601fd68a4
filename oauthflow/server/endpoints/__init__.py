"""Endpoints beside the token endpoint, a module each, registered with the registry."""
