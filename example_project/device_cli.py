#!/usr/bin/env python3
"""Sign in to the example site from a terminal, as a TV or a command-line tool would:
the device authorization grant (RFC 8628), over nothing but HTTP.

    .venv/bin/python example_project/device_cli.py   # against `make demo` on port 8000
    .venv/bin/python example_project/device_cli.py --site http://127.0.0.1:8500

It asks the site's metadata where the endpoints are, asks for a device code and a user
code, tells you where to enter the code, polls the token endpoint at the interval the
site gives (slower when told ``slow_down``), then calls the protected API with the access
token. It needs only ``requests``; it imports nothing from oauthflow or Django. The
client is the public client ``demo-device-cli`` that ``manage.py demo_setup`` registers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import requests

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: What a slow_down adds to the interval (RFC 8628 §3.5).
SLOW_DOWN_STEP = 5
TIMEOUT = 10


class Failed(Exception):
    """The flow ended without a token; the message says why."""


def discover(session: requests.Session, site: str) -> dict:
    response = session.get(f"{site}/.well-known/oauth-authorization-server", timeout=TIMEOUT)
    response.raise_for_status()
    metadata = response.json()
    if "device_authorization_endpoint" not in metadata:
        raise Failed("This site does not offer the device authorization grant.")
    return metadata


def start(session: requests.Session, metadata: dict, client_id: str, scope: str) -> dict:
    response = session.post(
        metadata["device_authorization_endpoint"],
        data={"client_id": client_id, "scope": scope},
        timeout=TIMEOUT,
    )
    body = response.json()
    if response.status_code != 200:
        raise Failed(f"The site refused: {body.get('error')}: {body.get('error_description')}")
    return body


def poll(
    session: requests.Session, metadata: dict, client_id: str, device: dict, out=sys.stdout
) -> dict:
    """Poll until the user decides or the code expires; the token response."""
    interval = int(device.get("interval", 5))
    deadline = time.monotonic() + int(device["expires_in"])
    while time.monotonic() < deadline:
        time.sleep(interval)
        response = session.post(
            metadata["token_endpoint"],
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": device["device_code"],
                "client_id": client_id,
            },
            timeout=TIMEOUT,
        )
        body = response.json()
        if response.status_code == 200:
            return body
        error = body.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            print(f"(the site asked to poll more slowly: every {interval} s)", file=out)
            continue
        if error == "access_denied":
            raise Failed("You denied the request.")
        if error == "expired_token":
            raise Failed("The code expired before you entered it. Run this again.")
        raise Failed(f"The site refused: {error}: {body.get('error_description')}")
    raise Failed("The code expired before you entered it. Run this again.")


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--site",
        default=os.environ.get("DEMO_PROVIDER_URL", "http://127.0.0.1:8000"),
        help="The example site (default: %(default)s).",
    )
    parser.add_argument("--client-id", default="demo-device-cli")
    parser.add_argument("--scope", default="read", help="Default: %(default)s.")
    args = parser.parse_args(argv)
    site = args.site.rstrip("/")
    session = requests.Session()
    try:
        metadata = discover(session, site)
        device = start(session, metadata, args.client_id, args.scope)
        minutes = max(1, int(device["expires_in"]) // 60)
        print(
            f"\nTo sign in, open {device['verification_uri']} on your phone or computer"
            f" and enter the code:\n\n    {device['user_code']}\n\n"
            f"Or open {device['verification_uri_complete']}\n"
            f"The code expires in {minutes} minutes. Waiting for you...",
            file=out,
            flush=True,
        )
        token = poll(session, metadata, args.client_id, device, out=out)
    except Failed as failure:
        print(failure, file=out)
        return 1
    except requests.RequestException as error:
        print(f"Could not reach {site}: {error}", file=out)
        return 2
    print(f"\nSigned in (scope: {token.get('scope')}). Calling {site}/api/me/ ...", file=out)
    me = session.get(
        f"{site}/api/me/",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=TIMEOUT,
    )
    print(f"HTTP {me.status_code}", file=out)
    try:
        print(json.dumps(me.json(), indent=2), file=out, flush=True)
    except ValueError:  # not the example site: no /api/me/ here
        print(me.text[:200], file=out, flush=True)
    return 0 if me.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
