"""Moving from django-oauth-toolkit: read what it stored and import it as oauthflow's own.

``source`` reads DOT's rows (through its installed models, or from a ``dumpdata`` file),
``mapping`` turns one DOT row into oauthflow's fields and says what changed on the way,
``importer`` runs the whole import (dry run by default, idempotent) and ``report`` tells
the person running it what happened. The management command is ``oauthflow_import_dot``;
docs/from-dot.md is the guide.

Nothing here runs at request time: after the import, the only trace of DOT is a client's
``legacy_secret_hash`` until its first sign-in (``Client.check_client_secret``).
"""
