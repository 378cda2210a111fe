#!/usr/bin/env python3
"""Escalation through hubd and a real PostgreSQL, with a local SMS gateway that records what
arrives: a step `{after: 2, channels: [SMS], if: unread}` sends one SMS no sooner than 2 s after
the event, and never when the notification was read first (over the socket, over REST, in a bulk
read, or with mark-all), nor when it was archived or had expired; `if: offline` sends only to a recipient with no session; quiet hours defer a step
unless URGENT; the catalogue's defaults; the deliveries endpoint showing pending and cancelled
steps; and every bad policy refused with a 400 naming the field."""
import asyncio
import datetime
import json
import os
import sys
import time
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, Recorder, api, fail_leftover_deliveries, register_user, wait_for  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_OUTBOX_RETRY_BASE_MS": 200}
SMS_AFTER_2 = [{"after": 2, "channels": ["SMS"], "if": "unread"}]


def parent(port, phone, **prefs):
    return register_user(port, "Parent", prefs={"sms_enabled": True, "phone_number": phone, **prefs})


def post(port, user, escalation=None, type_="attendance_alert", **extra):
    body = {"type": type_, "recipients": {"users": [user["id"]]},
            "data": {"student_name": "Yasmine", "status": "absent", "subject": "Maths", "class": "1A", "session_date": "today",
                     "session_time": "09:00"}, **extra}
    if escalation is not None:
        body["escalation"] = escalation
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, (status, answer)
    return answer["notification_ids"][0]


def deliveries(port, user, notification_id):
    status, _, answer = api(port, "GET", f"/api/v1/notifications/{notification_id}/deliveries/", token=user["token"])
    assert status == 200, answer
    return {row["channel"]: row for row in answer["results"]}


def texts_to(gateway, phone):
    return gateway.matching(lambda r: json.loads(r["body"]).get("to") == phone)


def main():
    fail_leftover_deliveries()
    gateway = Recorder()
    gateway.script = []
    env = dict(BASE, HUB_SMS_URL=f"http://127.0.0.1:{gateway.port}/sms")
    with Hubd(**env) as hubd:
        port = hubd.port

        def unread_sends_one_sms_no_sooner_than_after():
            person = parent(port, "+212611000101")
            posted_at = time.time()
            notification = post(port, person, SMS_AFTER_2)
            step = deliveries(port, person, notification)["SMS"]
            assert step["status"] == "PENDING" and step["escalation"] == {"after": 2, "if": "unread"}, step
            due = datetime.datetime.fromisoformat(step["available_at"].replace("Z", "+00:00")).timestamp()
            assert 1.5 <= due - posted_at <= 3.5, f"due {due - posted_at:.2f} s after the post"
            sms = wait_for(lambda: texts_to(gateway, "+212611000101"), seconds=10, what="the escalated SMS")
            waited = sms[0]["time"] - posted_at
            assert waited >= 2.0, f"the SMS came {waited:.2f} s after the event, before its step was due"
            assert "Yasmine" in json.loads(sms[0]["body"])["text"]
            time.sleep(2)
            assert len(texts_to(gateway, "+212611000101")) == 1, "the step is sent exactly once"
            assert wait_for(lambda: deliveries(port, person, notification)["SMS"]["status"] == "DELIVERED",
                            what="the step recorded as delivered")

        def read_over_the_socket_at_one_second_cancels_the_step():
            person = parent(port, "+212611000102")

            async def scenario():
                url = f"ws://127.0.0.1:{port}/ws/notifications/?token={person['token']}"
                async with websockets.connect(url) as tab:
                    await tab.recv()  # connection_established
                    notification = post(port, person, SMS_AFTER_2)
                    await asyncio.sleep(1)
                    await tab.send(json.dumps({"type": "mark_read", "id": notification}))
                    while True:
                        message = json.loads(await asyncio.wait_for(tab.recv(), 5))
                        if message["type"] == "notification_read":
                            break
                    # Cancelled by the read's own transaction, before the step is due (not when claimed).
                    step = deliveries(port, person, notification)["SMS"]
                    assert step["status"] == "CANCELLED", step
                    return notification

            notification = asyncio.run(scenario())
            time.sleep(5)  # 6 s after the event: 3 s past the step's due time
            assert texts_to(gateway, "+212611000102") == [], "an SMS went out for a notification read at 1 s"
            step = deliveries(port, person, notification)["SMS"]
            assert step["status"] == "CANCELLED" and step["last_error"] == "read", step

        def rest_reads_and_mark_all_cancel_too():
            person = parent(port, "+212611000103")
            ids = [post(port, person, SMS_AFTER_2) for _ in range(4)]
            status, _, _ = api(port, "POST", f"/api/v1/notifications/{ids[0]}/mark-read/", token=person["token"])
            assert status == 200
            status, _, answer = api(port, "POST", "/api/v1/notifications/bulk-read/", {"ids": [ids[1]]},
                                    token=person["token"])
            assert status == 200 and answer["marked"] == 1, answer
            status, _, answer = api(port, "POST", "/api/v1/notifications/mark-all-read/", token=person["token"])
            assert status == 200 and answer["marked"] >= 2, answer  # announcements of other suites too
            assert [deliveries(port, person, n)["SMS"]["status"] for n in ids] == ["CANCELLED"] * 4
            time.sleep(3.5)
            assert texts_to(gateway, "+212611000103") == [], [r["body"] for r in texts_to(gateway, "+212611000103")]
            assert [deliveries(port, person, n)["SMS"]["status"] for n in ids] == ["CANCELLED"] * 4

        def archived_or_expired_sends_nothing():
            # Archived before the step is due: dealt with, as a read. Expired before it is due:
            # nothing goes out for it on any channel.
            person = parent(port, "+212611000104")
            archived = post(port, person, SMS_AFTER_2)
            status, _, answer = api(port, "POST", f"/api/v1/notifications/{archived}/archive/", {}, token=person["token"])
            assert status == 200, answer
            soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)).isoformat()
            expired = post(port, person, SMS_AFTER_2, expires_at=soon)
            for notification, reason in ((archived, "archived"), (expired, "expired")):
                step = wait_for(lambda: (lambda s: s if s["status"] not in ("PENDING", "SENDING") else None)(
                    deliveries(port, person, notification)["SMS"]), seconds=10, what=f"the {reason} step settled")
                assert step["status"] == "CANCELLED" and step["last_error"] == reason, step
            assert texts_to(gateway, "+212611000104") == [], "an SMS went out for an archived or expired notification"

        def offline_sends_only_to_a_recipient_with_no_session():
            online, away = parent(port, "+212611000104"), parent(port, "+212611000105")
            policy = [{"after": 2, "channels": ["SMS"], "if": "offline"}]

            async def scenario():
                url = f"ws://127.0.0.1:{port}/ws/notifications/?token={online['token']}"
                async with websockets.connect(url) as tab:
                    await tab.recv()
                    kept = post(port, online, policy)
                    sent = post(port, away, policy)
                    sms = await asyncio.to_thread(wait_for, lambda: texts_to(gateway, "+212611000105"), 10,
                                                  "the SMS to the user with no session")
                    await asyncio.sleep(1.5)
                    return kept, sent, sms

            kept, sent, sms = asyncio.run(scenario())
            assert texts_to(gateway, "+212611000104") == [], ("an SMS to a user who was online",
                                                              [r["body"] for r in texts_to(gateway, "+212611000104")])
            assert len(sms) == 1
            step = deliveries(port, online, kept)["SMS"]
            assert step["status"] == "CANCELLED" and step["last_error"] == "online", step
            assert deliveries(port, away, sent)["SMS"]["status"] == "DELIVERED"

        def a_session_within_the_window_counts_as_online():
            person = parent(port, "+212611000106")

            async def visit():
                url = f"ws://127.0.0.1:{port}/ws/notifications/?token={person['token']}"
                async with websockets.connect(url) as tab:
                    await tab.recv()

            notification = post(port, person, [{"after": 2, "channels": ["SMS"], "if": "offline"}])
            asyncio.run(visit())  # a short visit, closed well before the step is due
            wait_for(lambda: deliveries(port, person, notification)["SMS"]["status"] != "PENDING", seconds=10,
                     what="the step decided")
            assert deliveries(port, person, notification)["SMS"]["status"] == "CANCELLED"
            assert texts_to(gateway, "+212611000106") == []

        def quiet_hours_defer_a_step_unless_urgent():
            now = datetime.datetime.now(datetime.timezone.utc)
            start, end = (now - datetime.timedelta(hours=1)).strftime("%H:%M"), (now + datetime.timedelta(hours=2)).strftime("%H:%M")
            person = parent(port, "+212611000107", quiet_hours_enabled=True, quiet_hours_start=start,
                            quiet_hours_end=end, timezone="UTC")
            deferred = deliveries(port, person, post(port, person, SMS_AFTER_2))["SMS"]
            due = datetime.datetime.fromisoformat(deferred["available_at"].replace("Z", "+00:00"))
            assert due - now > datetime.timedelta(hours=1, minutes=50), deferred
            urgent = deliveries(port, person, post(port, person, SMS_AFTER_2, priority="URGENT"))["SMS"]
            due = datetime.datetime.fromisoformat(urgent["available_at"].replace("Z", "+00:00"))
            assert due - now < datetime.timedelta(seconds=10), urgent

        def catalogue_defaults():
            person = register_user(port, "Guardian", prefs={"sms_enabled": True, "phone_number": "+212611000108",
                                                            "email_enabled": True})
            absence = deliveries(port, person, post(port, person, type_="ABSENCE_ALERT"))
            assert absence["SMS"]["escalation"] == {"after": 900, "if": "unread"}, absence
            assert absence["EMAIL"]["escalation"] is None, "channels outside the policy go at once"
            attendance = deliveries(port, person, post(port, person))
            assert attendance["SMS"]["escalation"] == {"after": 900, "if": "unread"}, attendance
            urgent = deliveries(port, person, post(port, person, type_="system_alert", priority="URGENT",
                                                   data={"message": "Server maintenance"}))
            assert urgent["EMAIL"]["escalation"] == {"after": 600, "if": "unread"}, urgent
            assert urgent["SMS"]["escalation"] is None
            high = deliveries(port, person, post(port, person, type_="system_alert", data={"message": "Hello"}))
            assert high["EMAIL"]["escalation"] is None, "the system_alert step is for URGENT only"
            overridden = deliveries(port, person, post(port, person, [], type_="ABSENCE_ALERT"))
            assert overridden["SMS"]["escalation"] is None, "escalation: [] turns the default off"
            time.sleep(1)
            assert texts_to(gateway, "+212611000108") and len(texts_to(gateway, "+212611000108")) == 3, \
                "only the three SMS outside a step went out at once"

        def a_channel_switched_off_is_never_escalated_to():
            person = register_user(port, "NoSms", prefs={"sms_enabled": False, "phone_number": "+212611000109"})
            rows = deliveries(port, person, post(port, person, SMS_AFTER_2))
            assert "SMS" not in rows, rows

        def bad_policies_answer_400_by_field():
            person = register_user(port, "Target")
            cases = [
                ("not a list", {"after": 2}, ["escalation"]),
                ([{"channels": ["SMS"]}], None, ["escalation[0].after"]),
                ([{"after": -1, "channels": ["SMS"]}], None, ["escalation[0].after"]),
                ([{"after": 700000, "channels": ["SMS"]}], None, ["escalation[0].after"]),
                ([{"after": "soon", "channels": ["SMS"]}], None, ["escalation[0].after"]),
                ([{"after": 5, "channels": []}], None, ["escalation[0].channels"]),
                ([{"after": 5, "channels": ["FAX"]}], None, ["escalation[0].channels"]),
                ([{"after": 5, "channels": ["IN_APP"]}], None, ["escalation[0].channels"]),
                ([{"after": 5, "channels": ["SMS"]}, {"after": 9, "channels": ["SMS"]}], None, ["escalation[1].channels"]),
                ([{"after": 5, "channels": ["SMS", "SMS"]}], None, ["escalation[0].channels"]),
                ([{"after": 5, "channels": ["SMS"], "if": "maybe"}], None, ["escalation[0].if"]),
                ([{"after": 5, "channels": ["SMS"], "priority": "URGENT"}], None, ["escalation[0].priority"]),
                ([{"after": i, "channels": ["SMS"]} for i in range(6)], None, ["escalation"]),
                (["SMS"], None, ["escalation[0]"]),
            ]
            for policy, _, fields in cases:
                body = {"type": "attendance_alert", "recipients": {"users": [person["id"]]}, "escalation": policy}
                if policy == "not a list":
                    body["escalation"] = {"after": 2}
                status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
                assert status == 400 and sorted(answer["details"]) == fields, (policy, status, answer)
            bulk = {"events": [{"type": "attendance_alert", "recipients": {"users": [person["id"]]}},
                               {"type": "attendance_alert", "recipients": {"users": [person["id"]]},
                                "escalation": [{"after": 1, "channels": ["PAGER"]}]}]}
            status, _, answer = api(port, "POST", "/api/v1/events/bulk/", bulk, api_key=KEY)
            assert status == 400 and list(answer["details"]) == ["events[1].escalation[0].channels"], answer

        checks.run("unread: one SMS, no sooner than `after`", unread_sends_one_sms_no_sooner_than_after)
        checks.run("read over the socket at 1 s: no SMS by 6 s", read_over_the_socket_at_one_second_cancels_the_step)
        checks.run("REST read, bulk read and mark-all cancel steps", rest_reads_and_mark_all_cancel_too)
        checks.run("archived or expired before the step is due: cancelled, no SMS", archived_or_expired_sends_nothing)
        checks.run("offline: SMS only to a user with no session", offline_sends_only_to_a_recipient_with_no_session)
        checks.run("offline: a short visit in the window counts", a_session_within_the_window_counts_as_online)
        checks.run("quiet hours defer a step unless URGENT", quiet_hours_defer_a_step_unless_urgent)
        checks.run("catalogue defaults and escalation: []", catalogue_defaults)
        checks.run("a channel switched off is never escalated to", a_channel_switched_off_is_never_escalated_to)
        checks.run("bad policies: 400 by field", bad_policies_answer_400_by_field)
    checks.exit()


if __name__ == "__main__":
    main()
