"""Subject identifiers (``sub``): what clients and APIs know a user by.

The default is a random value made the first time a user needs one and stored
(``Subject``): it says nothing about the user's row id or how many users there are, and a
restored database restores it as it was (a value computed from a secret would change
with the secret). A pairwise client (OpenID Connect Core §8.1) sees instead an HMAC of its
sector under a random key of the user's own, so two sectors cannot link their users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import IntegrityError, router, transaction

from .models import Subject

if TYPE_CHECKING:
    from .models import Client


def subject_row(user: Any) -> Subject:
    """The user's Subject, made on first use (a concurrent maker wins: its row is read)."""
    row = Subject.objects.filter(user=user).first()
    if row is not None:
        return row
    try:
        with transaction.atomic(using=router.db_for_write(Subject)):
            return Subject.objects.create(
                user=user,
                public=secrets.token_urlsafe(24),
                pairwise_key=secrets.token_hex(32),
            )
    except IntegrityError:
        return Subject.objects.using(router.db_for_write(Subject)).get(user=user)


def public_subject(user: Any) -> str:
    return subject_row(user).public


def sector_of(client: Client) -> str | None:
    """The host that names ``client``'s sector: its sector_identifier_uri's, or the one
    host all its redirect URIs share; None when neither says."""
    if client.sector_identifier_uri:
        return urlsplit(client.sector_identifier_uri).hostname
    hosts = {urlsplit(uri).hostname for uri in client.redirect_uri_list}
    return hosts.pop() if len(hosts) == 1 and None not in hosts else None


def pairwise_subject(user: Any, sector: str) -> str:
    key = bytes.fromhex(subject_row(user).pairwise_key)
    mac = hmac.new(key, sector.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def subject_for(user: Any, client: Client) -> str:
    """The ``sub`` ``client`` sees for ``user``: the adapter's subject, or a pairwise one
    for a pairwise client (its ID tokens, UserInfo and JWT access tokens alike)."""
    from .adapter import get_adapter

    if client.subject_type == "pairwise":
        sector = sector_of(client)
        if sector is None:
            # Client.clean() refuses this registration; a row written around it fails closed.
            raise ValueError("A pairwise client needs a sector.")
        return pairwise_subject(user, sector)
    return get_adapter().get_subject(user)
