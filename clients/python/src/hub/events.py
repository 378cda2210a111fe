"""Events as the hub takes them (POST /api/v1/events/), built with their idempotency key."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Literal, Mapping, NotRequired, Optional, Sequence, TypedDict, Union

Priority = Literal["LOW", "MEDIUM", "HIGH", "URGENT"]


class Recipients(TypedDict, total=False):
    users: List[int]
    rooms: List[str]
    roles: List[str]
    guardians_of: List[int]
    all: bool


# "if" is a keyword, hence the functional form: send on `channels` `after` seconds if still unread/offline.
EscalationStep = TypedDict("EscalationStep", {"after": int, "channels": List[str], "if": Literal["unread", "offline"]},
                           total=False)


class Event(TypedDict):
    type: str
    idempotency_key: str
    recipients: NotRequired[Recipients]
    data: NotRequired[Dict[str, Any]]
    title: NotRequired[str]
    message: NotRequired[str]
    priority: NotRequired[Priority]
    escalation: NotRequired[List[EscalationStep]]
    send_at: NotRequired[str]
    cancellation_key: NotRequired[str]
    cancel_if_read: NotRequired[int]


class EventAccepted(TypedDict):
    event_id: int
    count: int
    duplicate: bool
    notification_ids: List[int]
    deliveries_queued: int


class EventScheduled(TypedDict):
    scheduled_id: int
    send_at: str
    duplicate: bool


class BulkAccepted(TypedDict):
    count: int
    notifications_sent: int
    results: List[EventAccepted]


def event(type: str, *, users: Optional[Sequence[int]] = None, rooms: Optional[Sequence[str]] = None,
          roles: Optional[Sequence[str]] = None, guardians_of: Optional[Sequence[int]] = None,
          everyone: bool = False, data: Optional[Mapping[str, Any]] = None, title: Optional[str] = None,
          message: Optional[str] = None, priority: Optional[Priority] = None,
          idempotency_key: Optional[str] = None, escalation: Optional[Sequence[EscalationStep]] = None,
          send_at: Union[datetime, str, None] = None, cancellation_key: Optional[str] = None,
          cancel_if_read: Optional[int] = None) -> Event:
    """One event. Without an idempotency key it gets a fresh uuid4: the key names this logical
    event, so every retry of it (and a repeat of the same dict) is stored once by the hub."""
    recipients: Recipients = {}
    if users:
        recipients["users"] = [int(u) for u in users]
    if rooms:
        recipients["rooms"] = list(rooms)
    if roles:
        recipients["roles"] = list(roles)
    if guardians_of:
        recipients["guardians_of"] = [int(s) for s in guardians_of]
    if everyone:
        recipients["all"] = True
    built: Event = {"type": type, "idempotency_key": idempotency_key or str(uuid.uuid4())}
    if recipients:  # none: the hub decides (an event for webhooks alone, or a 400 naming the field)
        built["recipients"] = recipients
    if data is not None:
        built["data"] = dict(data)
    if title is not None:
        built["title"] = title
    if message is not None:
        built["message"] = message
    if priority is not None:
        built["priority"] = priority
    if escalation is not None:
        built["escalation"] = list(escalation)
    if send_at is not None:
        built["send_at"] = timestamp(send_at)
    if cancellation_key is not None:
        built["cancellation_key"] = cancellation_key
    if cancel_if_read is not None:
        built["cancel_if_read"] = int(cancel_if_read)
    return built


def with_key(payload: Mapping[str, Any]) -> Dict[str, Any]:
    """A copy of an event given as a plain dict, with an idempotency key if it had none."""
    copy = dict(payload)
    if not copy.get("idempotency_key"):
        copy["idempotency_key"] = str(uuid.uuid4())
    return copy


def timestamp(value: Union[datetime, str]) -> str:
    """ISO 8601 in UTC; a naive datetime is refused (its zone would be a guess)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("send_at must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
