"""What a user has authorized: remembered consents and live tokens, per client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from .models import AccessToken, Client, Consent, RefreshToken
from .scope import describe, list_to_scope, scope_to_list

_A_MINUTE = timedelta(minutes=1)


@dataclass
class AuthorizedApp:
    client: Client
    scopes: list[tuple[str, str]]
    since: datetime
    last_used: datetime | None

    @property
    def used_just_now(self) -> bool:
        """Used within the last minute, where "0 minutes ago" would read oddly."""
        return self.last_used is not None and timezone.now() - self.last_used < _A_MINUTE


def authorized_apps_of(user: Any) -> list[AuthorizedApp]:
    """Every client that holds a consent or a live token of ``user``, newest use first.

    A skip-consent client has no Consent row but still shows up through its tokens, so the
    user can withdraw a first-party app's access too. "Last used" is the newest token
    issued, which a refresh renews; it costs no write on API calls.
    """
    now = timezone.now()
    apps: dict[int, dict[str, Any]] = {}
    for consent in Consent.objects.filter(user=user).select_related("client"):
        apps[consent.client_id] = {
            "client": consent.client,
            "scope": consent.scope_list,
            "since": consent.created_at,
            "last_used": None,
        }
    for model in (AccessToken, RefreshToken):
        rows = (
            model.objects.filter(user=user)
            .active(now)
            .values("client_id", "scope")
            .annotate(first=Min("created_at"), last=Max("created_at"))
        )
        for row in rows:
            app = apps.setdefault(
                row["client_id"],
                {"client": None, "scope": [], "since": row["first"], "last_used": None},
            )
            app["scope"] = scope_to_list(list_to_scope(app["scope"] + scope_to_list(row["scope"])))
            app["since"] = min(app["since"], row["first"])
            app["last_used"] = max(filter(None, (app["last_used"], row["last"])))
    missing = [pk for pk, app in apps.items() if app["client"] is None]
    for client in Client.objects.filter(pk__in=missing):
        apps[client.pk]["client"] = client
    result = [
        AuthorizedApp(
            client=app["client"],
            scopes=describe(app["scope"]),
            since=app["since"],
            last_used=app["last_used"],
        )
        for app in apps.values()
    ]
    return sorted(result, key=lambda a: a.last_used or a.since, reverse=True)
