#!/usr/bin/env python3
"""Scheduled events through hubd and a real PostgreSQL: `send_at` 3 s ahead arrives at the
recipient's session between 3 and 5 s, once; cancelling by key at 1 s stops it; a restart of hubd
in between still delivers it once; `cancel_if_read` drops it when that notification was read; two
hubd processes draining one table send every event exactly once; the list of pending events; and
every bad input answered 400 by field."""
import asyncio
import datetime
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, psql, register_user, session_pushes, wait_for  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000}


def iso(seconds_ahead):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_ahead)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def schedule(port, user, ahead, title="Reminder", **extra):
    body = {"type": "reminder", "title": title, "message": "Halaka at 17:00", "recipients": {"users": [user["id"]]},
            "send_at": iso(ahead), **extra}
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, (status, answer)
    assert set(answer) == {"scheduled_id", "send_at", "duplicate"}, answer
    return answer


async def receive_titles(port, user, seconds):
    """The reminder titles pushed to a session of `user` within `seconds`, with their arrival times."""
    return [(data["title"], at) for type_, data, at in await session_pushes(port, user, seconds) if type_ == "reminder"]


def main():
    with Hubd(**BASE) as hubd:
        port = hubd.port

        def arrives_between_three_and_five_seconds_once():
            student = register_user(port, "Student")

            async def scenario():
                listening = asyncio.create_task(receive_titles(port, student, 7))
                await asyncio.sleep(0.3)
                posted = time.time()
                answer = await asyncio.to_thread(schedule, port, student, 3, "Soon")
                return posted, answer, await listening

            posted, answer, arrived = asyncio.run(scenario())
            assert answer["duplicate"] is False
            assert [title for title, _ in arrived] == ["Soon"], arrived
            waited = arrived[0][1] - posted
            assert 3.0 <= waited <= 5.0, f"arrived {waited:.2f} s after it was posted"

        def cancelled_by_key_at_one_second_never_arrives():
            student = register_user(port, "Student")
            key = "halaka-7-" + uuid.uuid4().hex[:6]

            async def scenario():
                listening = asyncio.create_task(receive_titles(port, student, 5))
                await asyncio.sleep(0.3)
                first = await asyncio.to_thread(schedule, port, student, 3, "Cancelled", cancellation_key=key)
                second = await asyncio.to_thread(schedule, port, student, 3, "Cancelled too", cancellation_key=key)
                status, _, pending = api(port, "GET", f"/api/v1/events/scheduled/?cancellation_key={key}", api_key=KEY)
                assert status == 200 and [r["scheduled_id"] for r in pending["results"]] == \
                    [first["scheduled_id"], second["scheduled_id"]], pending
                await asyncio.sleep(1)
                status, _, answer = api(port, "POST", "/api/v1/events/cancel/", {"cancellation_key": key}, api_key=KEY)
                assert status == 200 and answer == {"cancelled": 2, "reminders_stopped": 0}, answer
                return await listening

            assert asyncio.run(scenario()) == []
            status, _, pending = api(port, "GET", f"/api/v1/events/scheduled/?cancellation_key={key}", api_key=KEY)
            assert pending == {"count": 0, "results": []}, pending
            status, _, answer = api(port, "POST", "/api/v1/events/cancel/", {"cancellation_key": key}, api_key=KEY)
            assert answer == {"cancelled": 0, "reminders_stopped": 0}, "cancelling again finds nothing pending"

        def cancel_if_read_drops_it_when_that_notification_was_read():
            student = register_user(port, "Student")
            status, _, first = api(port, "POST", "/api/v1/events/", {
                "type": "homework", "title": "Homework", "message": "Read surah Al-Mulk",
                "recipients": {"users": [student["id"]]}}, api_key=KEY)
            assert status == 202, first
            read_one = first["notification_ids"][0]
            kept = schedule(port, student, 1, "Nudge", cancel_if_read=read_one)
            status, _, _ = api(port, "POST", f"/api/v1/notifications/{read_one}/read/", token=student["token"])
            assert status == 200
            wait_for(lambda: psql(f"SELECT status FROM scheduled_events WHERE id = {kept['scheduled_id']}") == "CANCELLED",
                     seconds=10, what="the nudge cancelled")
            assert psql(f"SELECT reason FROM scheduled_events WHERE id = {kept['scheduled_id']}") == "read"
            unread = schedule(port, student, 1, "Nudge 2", cancel_if_read=first["notification_ids"][0] + 10**9)
            wait_for(lambda: psql(f"SELECT status FROM scheduled_events WHERE id = {unread['scheduled_id']}") == "SENT",
                     seconds=10, what="a nudge whose notification was not read is sent")

        def a_time_in_the_past_means_now_and_a_key_schedules_once():
            student = register_user(port, "Student")
            key = "once-" + uuid.uuid4().hex
            first = schedule(port, student, -3600, "Past", idempotency_key=key)
            again = schedule(port, student, 60, "Past again", idempotency_key=key)
            assert again["scheduled_id"] == first["scheduled_id"] and again["duplicate"] is True, (first, again)
            wait_for(lambda: psql(f"SELECT status FROM scheduled_events WHERE id = {first['scheduled_id']}") == "SENT",
                     seconds=5, what="a past send_at sent at once")
            assert psql(f"SELECT count(*) FROM notifications WHERE recipient_id = {student['id']} AND title = 'Past'") == "1"

        def bad_input_answers_400_by_field():
            student = register_user(port, "Student")
            base = {"type": "reminder", "title": "T", "message": "M", "recipients": {"users": [student["id"]]}}
            cases = [
                ({"send_at": iso(91 * 24 * 3600)}, ["send_at"]),
                ({"send_at": "next tuesday"}, ["send_at"]),
                ({"send_at": "2026-13-01T10:00:00Z"}, ["send_at"]),
                ({"send_at": 1767225600}, ["send_at"]),
                ({"cancellation_key": "k"}, ["cancellation_key"]),
                ({"cancel_if_read": 5}, ["cancel_if_read"]),
                ({"send_at": iso(60), "cancellation_key": "x" * 256}, ["cancellation_key"]),
                ({"send_at": iso(60), "cancel_if_read": "five"}, ["cancel_if_read"]),
            ]
            for extra, fields in cases:
                status, _, answer = api(port, "POST", "/api/v1/events/", {**base, **extra}, api_key=KEY)
                assert status == 400 and sorted(answer["details"]) == fields, (extra, status, answer)
            status, _, answer = api(port, "POST", "/api/v1/events/bulk/",
                                    {"events": [base, {**base, "send_at": iso(60)}]}, api_key=KEY)
            assert status == 400 and list(answer["details"]) == ["events[1].send_at"], answer
            status, _, answer = api(port, "POST", "/api/v1/events/cancel/", {}, api_key=KEY)
            assert status == 400 and list(answer["details"]) == ["cancellation_key"], answer
            status, _, _ = api(port, "GET", "/api/v1/events/scheduled/", token=student["token"])
            assert status == 403, "students cannot list scheduled events"
            status, _, _ = api(port, "POST", "/api/v1/events/cancel/", {"cancellation_key": "k"}, token=student["token"])
            assert status == 403

        checks.run("send_at 3 s ahead: arrives between 3 and 5 s, once", arrives_between_three_and_five_seconds_once)
        checks.run("cancelled by key at 1 s: never arrives", cancelled_by_key_at_one_second_never_arrives)
        checks.run("cancel_if_read", cancel_if_read_drops_it_when_that_notification_was_read)
        checks.run("a past send_at means now; an idempotency key schedules once",
                   a_time_in_the_past_means_now_and_a_key_schedules_once)
        checks.run("bad input: 400 by field", bad_input_answers_400_by_field)

    def a_restart_before_send_at_still_delivers_once():
        with Hubd(**BASE) as first:
            student = register_user(first.port, "Student")
            kept = schedule(first.port, student, 3, "After restart")
        with Hubd(**BASE) as second:
            arrived = asyncio.run(receive_titles(second.port, student, 6))
            assert [title for title, _ in arrived] == ["After restart"], arrived
        assert psql(f"SELECT status FROM scheduled_events WHERE id = {kept['scheduled_id']}") == "SENT"
        assert psql(f"SELECT count(*) FROM notifications WHERE recipient_id = {student['id']}") == "1"

    def two_nodes_send_every_event_exactly_once():
        with Hubd(**BASE) as one, Hubd(**BASE) as two:
            student = register_user(one.port, "Student")
            ids = [schedule((one, two)[i % 2].port, student, 2, f"Event {i}")["scheduled_id"] for i in range(60)]
            listed = ",".join(map(str, ids))
            wait_for(lambda: psql(f"SELECT count(*) FROM scheduled_events WHERE id IN ({listed}) AND status = 'SENT'")
                     == "60", seconds=15, what="all 60 sent")
            assert psql(f"SELECT count(*) FROM notifications WHERE recipient_id = {student['id']}") == "60"
            assert psql(f"SELECT count(DISTINCT title) FROM notifications WHERE recipient_id = {student['id']}") == "60"

    checks.run("a restart between scheduling and send_at: delivered once", a_restart_before_send_at_still_delivers_once)
    checks.run("two nodes on one table: every event exactly once", two_nodes_send_every_event_exactly_once)
    checks.exit()


if __name__ == "__main__":
    main()
