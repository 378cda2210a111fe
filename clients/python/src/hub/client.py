"""The hub's REST API for platform backends (service key), one method per operation."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Sequence, Union, cast
from urllib.parse import quote

import requests

from .events import BulkAccepted, Event, EventAccepted, EventScheduled, event, with_key
from .transport import RetryPolicy, Timeout, Transport

JSON = Dict[str, Any]


class Hub:
    """A client of one hub.

        hub = Hub("https://hub.example", api_key="…")
        hub.send_event("grade_published", users=[42], data={"subject": "Math", "grade": "A"})

    Authenticates with a service key (`Authorization: Api-Key …`) or, for staff, an access token.
    Every call retries 429 (after Retry-After), 503 and connection errors with back-off; an event
    keeps one idempotency key across its retries. Errors raise hub.errors.HubError subclasses."""

    def __init__(self, url: str, api_key: Optional[str] = None, *, token: Optional[str] = None,
                 timeout: Timeout = (5.0, 30.0), retry: RetryPolicy = RetryPolicy(),
                 session: Optional[requests.Session] = None) -> None:
        if bool(api_key) == bool(token):
            raise ValueError("give exactly one of api_key (a service key) and token (a staff access token)")
        authorization = f"Api-Key {api_key}" if api_key else f"Bearer {token}"
        self.transport = Transport(url, authorization, timeout=timeout, retry=retry, session=session)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Events

    def send(self, event: Union[Event, Mapping[str, Any]]) -> Union[EventAccepted, EventScheduled]:
        """Posts one event built with hub.event() (or a dict of the API's shape: it gets an
        idempotency key if it has none). With send_at the answer is an EventScheduled."""
        return cast(Union[EventAccepted, EventScheduled], self._post("/api/v1/events/", with_key(event)))

    def send_event(self, type: str, **fields: Any) -> Union[EventAccepted, EventScheduled]:
        """hub.event(type, **fields), posted: users=, rooms=, roles=, guardians_of=, everyone=,
        data=, title=, message=, priority=, idempotency_key=, escalation=, send_at=, ..."""
        return self.send(event(type, **fields))

    def send_bulk(self, events: Sequence[Union[Event, Mapping[str, Any]]]) -> BulkAccepted:
        """Up to 1,000 events in one transaction (all or nothing); answers are in order."""
        return cast(BulkAccepted, self._post("/api/v1/events/bulk/", {"events": [with_key(e) for e in events]}))

    def schedule(self, type: str, send_at: Union[datetime, str], *, cancellation_key: Optional[str] = None,
                 **fields: Any) -> EventScheduled:
        """An event run at `send_at` (timezone-aware; at most 90 days ahead), cancellable by key."""
        answer = self.send(event(type, send_at=send_at, cancellation_key=cancellation_key, **fields))
        return cast(EventScheduled, answer)

    def cancel(self, cancellation_key: str) -> JSON:
        """Cancels every pending scheduled event and stops every reminder with the key:
        {cancelled, reminders_stopped}."""
        return self._post("/api/v1/events/cancel/", {"cancellation_key": cancellation_key})

    def scheduled(self, cancellation_key: Optional[str] = None) -> JSON:
        """Pending scheduled events, soonest first: {count, results}."""
        params = {"cancellation_key": cancellation_key} if cancellation_key else None
        return self._get("/api/v1/events/scheduled/", params)

    # Recurring reminders

    def create_reminder(self, type: str, rule: Mapping[str, Any], *, cancellation_key: Optional[str] = None,
                        **fields: Any) -> JSON:
        """A recurring reminder: `rule` is {"daily": "HH:MM", "timezone"}, {"weekly": {"days", "at"}}
        or Halaka's schedule object; the other fields are those of hub.event() (no send_at)."""
        body: Dict[str, Any] = dict(event(type, **fields))
        body.pop("idempotency_key")  # each occurrence gets its own from the hub
        body["rule"] = dict(rule)
        if cancellation_key is not None:
            body["cancellation_key"] = cancellation_key
        return cast(JSON, self.transport.request("POST", "/api/v1/reminders/", body=body, replayable=False))

    def reminders(self, page: Optional[int] = None, page_size: Optional[int] = None) -> JSON:
        """Reminders, newest first (a paginated list)."""
        params = {k: v for k, v in (("page", page), ("page_size", page_size)) if v is not None}
        return self._get("/api/v1/reminders/", params or None)

    def reminder(self, reminder_id: int) -> JSON:
        return self._get(f"/api/v1/reminders/{int(reminder_id)}/")

    def update_reminder(self, reminder_id: int, **changes: Any) -> JSON:
        """PATCH any field (`active=False` pauses it, `rule=…`, `data=…`, ...)."""
        return cast(JSON, self.transport.request("PATCH", f"/api/v1/reminders/{int(reminder_id)}/", body=changes))

    def delete_reminder(self, reminder_id: int) -> None:
        self.transport.request("DELETE", f"/api/v1/reminders/{int(reminder_id)}/")

    def skip_reminder(self, reminder_id: int, date: str, reason: Optional[str] = None) -> JSON:
        """Skips one date (YYYY-MM-DD), e.g. a cancelled session."""
        body = {"date": date, **({"reason": reason} if reason else {})}
        return self._post(f"/api/v1/reminders/{int(reminder_id)}/skip/", body)

    def unskip_reminder(self, reminder_id: int, date: str) -> JSON:
        return self._post(f"/api/v1/reminders/{int(reminder_id)}/unskip/", {"date": date})

    # Rooms

    def room_members(self, room: str) -> JSON:
        """{room, count, members: [{user_id, online}]} for a room such as "class:5"."""
        return self._get(f"/api/v1/rooms/{_segment(room)}/members/")

    def add_room_members(self, room: str, user_ids: Sequence[int]) -> JSON:
        return self._post(f"/api/v1/rooms/{_segment(room)}/members/", {"user_ids": [int(u) for u in user_ids]})

    def remove_room_member(self, room: str, user_id: int) -> None:
        self.transport.request("DELETE", f"/api/v1/rooms/{_segment(room)}/members/{int(user_id)}/")

    # Guardians

    def guardians(self, student_id: int) -> JSON:
        """A student's guardians: {count, results: [user]}."""
        return self._get(f"/api/v1/users/{int(student_id)}/guardians/")

    def add_guardian(self, student_id: int, parent_id: int) -> JSON:
        return self._post(f"/api/v1/users/{int(student_id)}/guardians/", {"parent": int(parent_id)})

    def remove_guardian(self, student_id: int, parent_id: int) -> None:
        self.transport.request("DELETE", f"/api/v1/users/{int(student_id)}/guardians/{int(parent_id)}/")

    # Presence

    def presence(self, user_id: int) -> JSON:
        """{user_id, online, ...} for one user."""
        return self._get(f"/api/v1/presence/users/{int(user_id)}/")

    def presence_of(self, user_ids: Sequence[int]) -> JSON:
        """{results: [presence of each user, in order]}."""
        return self._post("/api/v1/presence/query/", {"user_ids": [int(u) for u in user_ids]})

    def room_presence(self, room: str) -> JSON:
        """The members of a room online now: {room, count, members}."""
        return self._get(f"/api/v1/presence/rooms/{_segment(room)}/")

    # Webhook endpoints: where the hub posts its events, signed (hub.webhooks.Webhook verifies)

    def webhook_endpoints(self) -> JSON:
        """{count, results: [endpoint]} (no secrets)."""
        return self._get("/api/v1/webhooks/endpoints/")

    def create_webhook_endpoint(self, url: str, event_types: Sequence[str], *, description: Optional[str] = None,
                                disabled: bool = False) -> JSON:
        """The new endpoint with its `secret` (whsec_…), shown this once: keep it to verify what
        arrives. `event_types` may hold wildcards ("notification.*", "*"). Not retried after a lost
        answer: a repeat would make a second endpoint."""
        body: Dict[str, Any] = {"url": url, "event_types": list(event_types), "disabled": disabled}
        if description is not None:
            body["description"] = description
        return cast(JSON, self.transport.request("POST", "/api/v1/webhooks/endpoints/", body=body, replayable=False))

    def webhook_endpoint(self, endpoint_id: int) -> JSON:
        return self._get(f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/")

    def update_webhook_endpoint(self, endpoint_id: int, **changes: Any) -> JSON:
        """PATCH `url`, `event_types`, `description` or `disabled`."""
        return cast(JSON, self.transport.request("PATCH", f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/", body=changes))

    def delete_webhook_endpoint(self, endpoint_id: int) -> None:
        self.transport.request("DELETE", f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/")

    def rotate_webhook_secret(self, endpoint_id: int) -> JSON:
        """A new secret (in the answer, once); for a while the hub signs with both old and new."""
        return cast(JSON, self.transport.request("POST", f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/rotate-secret/",
                                                 body={}, replayable=False))

    def test_webhook_endpoint(self, endpoint_id: int) -> JSON:
        """Queues a `webhook.test` message to the endpoint."""
        return self._post(f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/test/", {})

    def webhook_deliveries(self, endpoint_id: int, page: Optional[int] = None, page_size: Optional[int] = None) -> JSON:
        """The endpoint's messages, newest first, each with its attempts."""
        params = {k: v for k, v in (("page", page), ("page_size", page_size)) if v is not None}
        return self._get(f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/deliveries/", params or None)

    def replay_webhook_message(self, message_id: int) -> JSON:
        """Sends a message again, with the same webhook-id and body (receivers dedupe on the id)."""
        return self._post(f"/api/v1/webhooks/messages/{int(message_id)}/replay/", {})

    def recover_webhook_endpoint(self, endpoint_id: int, since: Union[datetime, str]) -> JSON:
        """Sends again every message that failed since `since`: {queued}."""
        when = since.isoformat() if isinstance(since, datetime) else since
        return self._post(f"/api/v1/webhooks/endpoints/{int(endpoint_id)}/recover/", {"since": when})

    def health(self) -> JSON:
        return self._get("/api/health/")

    def _get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> JSON:
        return cast(JSON, self.transport.request("GET", path, params=params))

    def _post(self, path: str, body: Any) -> JSON:
        """POSTs whose repeat is harmless: events carry their idempotency key, the others are
        set operations (add a member, link a guardian, cancel by key, query)."""
        return cast(JSON, self.transport.request("POST", path, body=body, replayable=True))


def _segment(value: str) -> str:
    return quote(value, safe=":")
