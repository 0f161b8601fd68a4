"""What happens to a user's authorizations when the user changes.

A password change revokes everything issued for the user (``REVOKE_TOKENS_ON_PASSWORD_CHANGE``,
on by default): Django ends a user's other sessions when the password changes, and tokens
are sessions that other apps hold. The old hash is read before the save, only when the
save writes the password field, and compared with the new one; the re-hashing Django does
at sign-in after a hasher change is not a change. ``QuerySet.update(password=…)`` sends no
signal and is not seen: revoke with ``oauthflow.store.revocation.revoke_user`` after one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save, pre_save

from ..settings import oauthflow_settings
from .revocation import revoke_user

_CHANGED = "_oauthflow_password_changed"


def _before_save(
    sender: Any,
    instance: Any,
    raw: bool = False,
    update_fields: Any = None,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    if raw or instance.pk is None or not oauthflow_settings.REVOKE_TOKENS_ON_PASSWORD_CHANGE:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # last_login at every sign-in, say: no query
    if _is_hash_upgrade(instance, update_fields):
        return
    stored = (
        type(instance)
        ._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if stored is not None and stored != getattr(instance, "password", stored):
        instance.__dict__[_CHANGED] = True


def _is_hash_upgrade(instance: Any, update_fields: Any) -> bool:
    """Django re-hashes a password at sign-in when its hasher or work factor changed, and
    saves only that field. It is the same password: Django itself does not count it as a
    change (``AbstractBaseUser.check_password`` clears ``_password`` for it, where
    ``set_password`` leaves the new password there until the save)."""
    return (
        update_fields is not None
        and set(update_fields) == {"password"}
        and getattr(instance, "_password", None) is None
    )


def _after_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.__dict__.pop(_CHANGED, False):
        revoke_user(instance, by="password-change")


def connect_signals() -> None:
    """Called by the app's ``ready()``."""
    user_model = settings.AUTH_USER_MODEL
    pre_save.connect(_before_save, sender=user_model, dispatch_uid="oauthflow.password.before")
    post_save.connect(_after_save, sender=user_model, dispatch_uid="oauthflow.password.after")
