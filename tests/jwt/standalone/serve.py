"""Serves the standalone API over HTTP on 127.0.0.1 (``python -m tests.jwt.standalone.serve``).

The port is the system's choice: the first line on stdout says ``listening on <port>``.
One request at a time (wsgiref), which is all the tests need. It stops when its stdin
closes, so it never outlives the test process that started it.
"""

import os
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server


class Handler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("standalone: " + (format % args) + "\n")


def _exit_with_stdin() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    from . import harness

    harness.install_import_recorder()
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.jwt.standalone.settings"
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()
    harness.install()
    application = get_wsgi_application()
    server = make_server("127.0.0.1", 0, application, handler_class=Handler)
    threading.Thread(target=_exit_with_stdin, daemon=True).start()
    print(f"listening on {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
