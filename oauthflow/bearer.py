"""Kept so imports from earlier releases keep working; access token validation lives in
``oauthflow.resource.validation``."""

from .resource.validation import validate
from .store.validity import Refusal as Rejection

__all__ = ["Rejection", "validate"]
