"""Django integration: events posted after the transaction commits, never for one that rolled back.

    # settings.py
    HUB_URL = "https://hub.example"
    HUB_API_KEY = env("HUB_API_KEY")

    from hub.django import notify
    with transaction.atomic():
        grade = Grade.objects.create(...)
        notify("grade_published", users=[grade.student_id], data={"subject": grade.subject})

    class Absence(HubEventMixin, models.Model):
        def hub_event(self):
            return event("attendance_alert", guardians_of=[self.student_id], data={...})

Django is imported only when these are called, so `import hub` works without it. Optional
settings: HUB_TIMEOUT (seconds), HUB_RETRY (a hub.RetryPolicy)."""
from __future__ import annotations

import functools
import logging
import threading
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from .client import Hub
from .errors import HubError
from .events import Event, EventAccepted, EventScheduled, event
from .transport import RetryPolicy

logger = logging.getLogger("hub")
_clients: Dict[Tuple[str, str], Hub] = {}
_lock = threading.Lock()


def client() -> Hub:
    """The Hub for settings.HUB_URL and settings.HUB_API_KEY (one per pair, shared by threads:
    requests' Session pools connections)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    url = getattr(settings, "HUB_URL", None)
    key = getattr(settings, "HUB_API_KEY", None)
    if not url or not key:
        raise ImproperlyConfigured("hub.django needs the settings HUB_URL and HUB_API_KEY")
    with _lock:
        hub = _clients.get((url, key))
        if hub is None:
            options: Dict[str, Any] = {}
            if getattr(settings, "HUB_TIMEOUT", None) is not None:
                options["timeout"] = settings.HUB_TIMEOUT
            if isinstance(getattr(settings, "HUB_RETRY", None), RetryPolicy):
                options["retry"] = settings.HUB_RETRY
            hub = _clients[(url, key)] = Hub(url, api_key=key, **options)
        return hub


def notify(type: str, *, send_now: bool = False, using: Optional[str] = None,
           **fields: Any) -> Union[EventAccepted, EventScheduled, None]:
    """Posts hub.event(type, **fields) once the current transaction on `using` commits (at once
    when none is open); nothing is sent if it rolls back. send_now=True posts before returning
    and answers the hub's reply (errors raise)."""
    return send(event(type, **fields), send_now=send_now, using=using)


def send(built: Union[Event, Mapping[str, Any]], *, send_now: bool = False,
         using: Optional[str] = None) -> Union[EventAccepted, EventScheduled, None]:
    """notify() for an event built beforehand (its idempotency key is kept)."""
    if send_now:
        return client().send(built)
    from django.db import transaction

    transaction.on_commit(functools.partial(_send_committed, built), using=using)
    return None


def _send_committed(built: Union[Event, Mapping[str, Any]]) -> None:
    # The transaction has committed: raising here would fail a request whose work is done, so
    # a hub that stays unreachable through every retry is logged instead.
    try:
        client().send(built)
    except HubError:
        logger.exception("hub: event %s (idempotency key %s) was not sent", built.get("type"),
                         built.get("idempotency_key"))


class HubEventMixin:
    """For models: when an instance is first saved, the event its hub_event() returns (or None)
    is posted after the transaction commits. bulk_create() bypasses save() and sends nothing."""

    def hub_event(self) -> Optional[Union[Event, Mapping[str, Any]]]:
        return None

    def save(self, *args: Any, **kwargs: Any) -> None:
        state = getattr(self, "_state")
        created = state.adding
        super().save(*args, **kwargs)  # type: ignore[misc]
        if created:
            built = self.hub_event()
            if built is not None:
                send(built, using=kwargs.get("using") or state.db)
