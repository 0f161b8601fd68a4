"""Answering 503 while the database is unreachable, instead of a 500 and a traceback.

Every endpoint of oauthflow, and the resource side, needs the database (the token cache
aside). When it cannot be reached, a client learns that the service is down for now and
when to try again (``Retry-After``), in JSON where it expects JSON and on an error page
where a person is looking. The connection is closed at the end of the request (Django
does this after a database error), so service resumes by itself once the database is
back; ``CONN_HEALTH_CHECKS = True`` also retires a persistent connection that died
between requests.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

#: The errors that mean "the database cannot be reached now", not a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 5
DESCRIPTION = "The service is temporarily unavailable; try again shortly."


def log(error: Exception) -> None:
    """One line an operator can act on: the error's class and the database's own code
    (PostgreSQL's SQLSTATE, MySQL's error number), so an outage and, say, a missing
    migration (also an OperationalError) tell apart. Not the message: some drivers quote
    the value they refused, which may come from the request."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None)
    if code is None and cause is not None and cause.args and isinstance(cause.args[0], int):
        code = cause.args[0]
    logger.error("The database is unavailable: %s (code %s)", type(error).__name__, code)


def json_response() -> JsonResponse:
    response = JsonResponse(
        {"error": "temporarily_unavailable", "error_description": DESCRIPTION}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response
