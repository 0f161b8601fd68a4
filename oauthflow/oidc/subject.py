"""The ``sub`` a client sees (Core §8): ``oauthflow.subjects.subject_for``."""

from __future__ import annotations

from ..subjects import subject_for

__all__ = ["subject_for"]
