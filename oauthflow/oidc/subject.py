"""The ``sub`` a client sees: the adapter's subject, or a pairwise one (Core §8)."""

from __future__ import annotations

from typing import Any

from ..adapter import get_adapter
from ..models import Client
from ..subjects import pairwise_subject, sector_of


def subject_for(user: Any, client: Client) -> str:
    if client.subject_type == "pairwise":
        sector = sector_of(client)
        if sector is None:
            # Client.clean() refuses this registration; a row written around it fails closed.
            raise ValueError("A pairwise client needs a sector.")
        return pairwise_subject(user, sector)
    return get_adapter().get_subject(user)
