"""A relying party: a separate Django site that signs its users in with mozilla-django-oidc
at oauthflow's OpenID Connect provider (tests/browser/test_oidc_relying_party.py).

It runs in its own process (``python -m django runserver`` with
``DJANGO_SETTINGS_MODULE=tests.browser.rp_site.settings``), as Django's settings are
global. Everything it knows about the provider comes from the environment: the endpoints
the test read from the provider's discovery document, and the client's credentials.
"""
