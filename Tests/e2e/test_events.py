#!/usr/bin/env python3
"""The event pipeline and the notification REST API through hubd and a real PostgreSQL:
events by guardians/users/rooms/roles/all, templates in the recipient's language, live pushes,
idempotency, outbox rows by preference, every list filter, every alias, and the error cases."""
import asyncio
import json
import os
import sys
import time
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, psql, register_user as register  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex


def event(port, body, key=KEY, token=None):
    return api(port, "POST", "/api/v1/events/", body, api_key=None if token else key, token=token)


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_PRESENCE_GRACE_MS=200) as hubd:
        port = hubd.port
        student = register(port, "Yasmine")
        parent = register(port, "Khadija", role="PARENT", language="ar")
        other = register(port, "Karim")
        status, _, _ = api(port, "POST", f"/api/v1/users/{student['id']}/guardians/", {"parent": parent["id"]}, api_key=KEY)
        assert status == 201
        state = {}

        async def guardian_alert_in_arabic_live_then_read_everywhere():
            url = f"ws://127.0.0.1:{port}/ws/notifications/?token={parent['access']}"
            async with websockets.connect(url) as tab1, websockets.connect(url) as tab2:
                for tab in (tab1, tab2):
                    assert json.loads(await tab.recv())["type"] == "connected"
                key = uuid.uuid4().hex
                body = {"type": "attendance_alert", "recipients": {"guardians_of": [student["id"]]},
                        "data": {"student_name": "ياسمين", "status": "غائبة", "subject": "الرياضيات", "class": "1A", "session_date": "2026-11-22", "session_time": "09:00"},
                        "idempotency_key": key}
                started = time.time()
                status, _, answer = await asyncio.get_running_loop().run_in_executor(None, event, port, body)
                assert status == 202 and answer["count"] == 1 and answer["duplicate"] is False, (status, answer)
                nid = answer["notification_ids"][0]
                for tab in (tab1, tab2):
                    push = json.loads(await asyncio.wait_for(tab.recv(), 2))
                    assert push["type"] == "attendance_alert" and push["id"] == nid, push
                    assert push["data"]["notification"]["title"] == "تنبيه الحضور", push["data"]["notification"]["title"]
                    assert "ياسمين" in push["data"]["notification"]["message"] and push["data"]["notification"]["priority"] == "HIGH"
                assert time.time() - started < 1.0, time.time() - started
                status, _, listing = api(port, "GET", "/api/v1/notifications/?is_read=false", token=parent["access"])
                assert status == 200 and [n["id"] for n in listing["results"]] == [nid], listing
                assert listing["results"][0]["is_read"] is False and listing["results"][0]["category"] == "attendance"
                status, _, _ = api(port, "POST", f"/api/v1/notifications/{nid}/read/", {}, token=parent["access"])
                assert status == 200
                for tab in (tab1, tab2):
                    read = json.loads(await asyncio.wait_for(tab.recv(), 2))
                    assert read["type"] == "notification_read" and read["data"] == {"ids": [nid], "unread_count": 0, "unseen_count": 0}, read
                status, _, again = await asyncio.get_running_loop().run_in_executor(None, event, port, body)
                assert status == 202 and again["duplicate"] is True and again["notification_ids"] == [nid], again
                assert psql(f"SELECT count(*) FROM notifications WHERE event_id = {int(answer['event_id'])}") == "1"
                try:
                    extra = await asyncio.wait_for(tab1.recv(), 0.5)
                    raise AssertionError(f"a duplicate was pushed: {extra}")
                except asyncio.TimeoutError:
                    pass

        def recipients_by_users_rooms_roles():
            api(port, "POST", "/api/v1/rooms/halaka:quran-1/members/", {"user_ids": [student["id"], other["id"]]}, api_key=KEY)
            status, _, answer = event(port, {"type": "session_cancelled", "recipients": {"rooms": ["halaka:quran-1"],
                                      "users": [student["id"]]}, "data": {"halaka_name": "Al-Fatiha", "date": "Friday",
                                      "time": "18:00", "reason": "Imam travelling"}})
            assert status == 202 and answer["count"] == 2, answer
            status, _, listing = api(port, "GET", "/api/v1/notifications/?notification_type=session_cancelled",
                                     token=other["access"])
            assert listing["count"] == 1
            item = listing["results"][0]
            assert item["title"] == "Session cancelled" and "Imam travelling" in item["message"]
            assert item["title_arabic"] == "تم إلغاء الحلقة" and item["title_french"] == "Séance annulée"
            status, _, answer = event(port, {"type": "system_alert", "recipients": {"roles": ["PARENT"]},
                                             "data": {"message": "School closed tomorrow"}})
            assert status == 202 and answer["count"] >= 1
            parents = psql("SELECT count(*) FROM users WHERE role = 'PARENT' AND is_active")
            assert answer["count"] == int(parents), (answer, parents)

        def custom_title_without_catalogue():
            status, _, answer = event(port, {"type": "trip_update", "title": "Bus late", "message": "Bus 3 is 10 min late",
                                             "title_arabic": "تأخر الحافلة", "recipients": {"users": [student["id"]]},
                                             "priority": "low"})
            assert status == 202 and answer["count"] == 1, answer
            status, _, item = api(port, "GET", f"/api/v1/notifications/{answer['notification_ids'][0]}/", token=student["access"])
            assert item["title"] == "Bus late" and item["priority"] == "LOW" and item["title_arabic"] == "تأخر الحافلة"

        def announcement_to_everyone():
            def unread(user):
                return api(port, "GET", "/api/v1/notifications/unread-count/", token=user["access"])[2]["unread_count"]

            async def connected_unread(user):
                async with websockets.connect(f"ws://127.0.0.1:{port}/ws/notifications/?token={user['access']}") as ws:
                    return json.loads(await ws.recv())["data"]["unread_count"]

            before = {user["id"]: unread(user) for user in (student, other)}
            status, _, answer = event(port, {"type": "system_alert", "recipients": {"all": True},
                                             "data": {"message": "Eid holidays start Monday"}})
            assert status == 202 and answer["count"] == 1, answer
            aid = answer["notification_ids"][0]
            for user in (student, other, parent):
                status, _, listing = api(port, "GET", "/api/v1/notifications/?notification_type=system_alert&search=Eid",
                                         token=user["access"])
                assert aid in [n["id"] for n in listing["results"]], listing
            assert {user["id"]: unread(user) for user in (student, other)} == {k: v + 1 for k, v in before.items()}
            api(port, "POST", f"/api/v1/notifications/{aid}/read/", {}, token=other["access"])
            _, _, mine = api(port, "GET", f"/api/v1/notifications/{aid}/", token=other["access"])
            _, _, theirs = api(port, "GET", f"/api/v1/notifications/{aid}/", token=student["access"])
            assert mine["is_read"] is True and theirs["is_read"] is False, (mine, theirs)
            assert mine["is_announcement"] is True
            # Counted per user: the reader's count drops back, the others' keep the announcement;
            # the unread list agrees, and so does a new socket's `connected`.
            assert unread(other) == before[other["id"]] and unread(student) == before[student["id"]] + 1
            for user in (student, other):
                listed = api(port, "GET", "/api/v1/notifications/?is_read=false", token=user["access"])[2]["count"]
                assert listed == unread(user) == asyncio.run(connected_unread(user)), (user["id"], listed)

        def event_validation_and_access():
            cases = [
                ({"recipients": {"users": [1]}}, {"type"}),
                ({"type": "no_such_type", "recipients": {"users": [1]}}, {"type"}),
                ({"type": "attendance_alert", "recipients": [1]}, {"recipients"}),
                ({"type": "attendance_alert", "recipients": "all"}, {"recipients"}),
                ({"type": "attendance_alert", "recipients": {"users": ["x"], "rooms": ["bad room"], "roles": ["KING"],
                                                             "all": "yes"}},
                 {"recipients.users", "recipients.rooms", "recipients.roles", "recipients.all"}),
                ({"type": "attendance_alert", "recipients": {"users": [1]}, "priority": "CRITICAL", "data": [1]},
                 {"priority", "data"}),
            ]
            for body, fields in cases:
                status, _, answer = event(port, body)
                assert status == 400 and set(answer["details"]) == fields, (body, status, answer)
            status, _, answer = event(port, {"type": "attendance_alert", "recipients": {"users": [student["id"]]}},
                                      token=student["access"])
            assert status == 403, status
            status, _, _ = api(port, "POST", "/api/v1/events/", {"type": "x"})
            assert status == 401

        def list_filters_pagination_ordering():
            uid = other["id"]
            for i, (type_, priority) in enumerate([("homework_assigned", "MEDIUM"), ("payment_due", "HIGH"),
                                                   ("grade_published", "LOW")] * 3):
                status, _, _ = event(port, {"type": type_, "priority": priority, "recipients": {"users": [uid]},
                                            "data": {"homework_title": f"Exercise {i}", "amount": "200 MAD",
                                                     "group_name": "B1", "due_date": "Monday", "grade": "18/20",
                                                     "subject": "Arabic", "student_name": "Karim"}})
                assert status == 202
            token = other["access"]
            _, _, everything = api(port, "GET", "/api/v1/notifications/?page_size=100", token=token)
            total = everything["count"]
            status, _, page = api(port, "GET", "/api/v1/notifications/?page_size=4&page=2", token=token)
            assert status == 200 and len(page["results"]) == 4 and page["count"] == total
            assert page["next"] and "page=3" in page["next"] and "page=1" in page["previous"]
            assert page["page_info"] == {"current_page": 2, "page_size": 4, "total_pages": (total + 3) // 4, "has_next": True,
                                         "has_previous": True}, page["page_info"]
            ids = [n["id"] for n in everything["results"]]
            assert ids == sorted(ids, reverse=True), "newest first by default"
            _, _, ascending = api(port, "GET", "/api/v1/notifications/?ordering=created_at&page_size=100", token=token)
            assert [n["id"] for n in ascending["results"]] == sorted(ids)
            _, _, by_priority = api(port, "GET", "/api/v1/notifications/?ordering=-priority&page_size=100", token=token)
            ranks = {"LOW": 0, "MEDIUM": 1, "HIGH": 2, "URGENT": 3}
            values = [ranks[n["priority"]] for n in by_priority["results"]]
            assert values == sorted(values, reverse=True)
            for query, check in [
                ("notification_type=payment_due", lambda n: n["notification_type"] == "payment_due"),
                ("category=homework", lambda n: n["category"] == "homework"),
                ("priority=low", lambda n: n["priority"] == "LOW"),
                ("is_read=false", lambda n: n["is_read"] is False),
                ("search=Exercise%203", lambda n: "Exercise 3" in n["message"]),
            ]:
                status, _, filtered = api(port, "GET", f"/api/v1/notifications/?{query}&page_size=100", token=token)
                assert status == 200 and filtered["count"] >= 1 and all(map(check, filtered["results"])), (query, filtered)
                assert filtered["count"] < total or query == "is_read=false"
            _, _, future = api(port, "GET", "/api/v1/notifications/?created_at__gte=2999-01-01", token=token)
            assert future["count"] == 0
            _, _, past = api(port, "GET", "/api/v1/notifications/?created_at__lte=2000-01-01T00:00:00Z", token=token)
            assert past["count"] == 0
            _, _, window = api(port, "GET", "/api/v1/notifications/?created_at__gte=2000-01-01&created_at__lte=2999-12-31T23:59:59Z&page_size=100", token=token)
            assert window["count"] == total
            status, _, bad = api(port, "GET", "/api/v1/notifications/?is_read=maybe&priority=SOON&ordering=title&page=0"
                                              "&page_size=1000&created_at__gte=yesterday", token=token)
            assert status == 400 and set(bad["details"]) == {"is_read", "priority", "ordering", "page",
                                                             "created_at__gte"}, bad
            status, _, capped = api(port, "GET", "/api/v1/notifications/?page_size=1000", token=token)
            assert status == 200 and capped["page_info"]["page_size"] == 100, "over 100 is capped, as DRF's max_page_size"
            status, _, bad = api(port, "GET", "/api/v1/notifications/?page_size=0", token=token)
            assert status == 400 and set(bad["details"]) == {"page_size"}, bad
            state["other_ids"] = ids

        def aliases_and_read_endpoints():
            token = other["access"]
            ids = state["other_ids"]
            before = api(port, "GET", "/api/v1/notifications/unread-count/", token=token)[2]["unread_count"]
            for path in ("/api/notifications/", "/api/attendance/notifications/"):
                status, _, listing = api(port, "GET", path, token=token)
                assert status == 200 and listing["count"] == len(ids), path
            assert api(port, "PATCH", f"/api/notifications/{ids[0]}/read/", {}, token=token)[2]["is_read"] is True
            assert api(port, "POST", f"/api/v1/notifications/{ids[1]}/mark-read/", {}, token=token)[2]["is_read"] is True
            assert api(port, "POST", f"/api/attendance/notifications/{ids[2]}/mark_read/", {}, token=token)[2]["is_read"]
            status, _, bulk = api(port, "POST", "/api/attendance/notifications/bulk_read/", {"ids": ids[3:5]}, token=token)
            assert status == 200 and bulk["marked"] == 2, bulk
            _, _, unread = api(port, "GET", "/api/attendance/notifications/unread/?page_size=100", token=token)
            assert all(n["is_read"] is False for n in unread["results"]) and unread["count"] == before - 5, (unread["count"], before)
            _, _, count = api(port, "GET", "/api/v1/notifications/unread-count/", token=token)
            assert count["unread_count"] == unread["count"]
            status, _, everything = api(port, "PATCH", "/api/notifications/mark-all-read/", {}, token=token)
            assert status == 200 and everything["unread_count"] == 0
            status, _, bad = api(port, "POST", "/api/v1/notifications/bulk-read/", {"ids": "all"}, token=token)
            assert status == 400 and "ids" in bad["details"]

        def ownership_and_errors():
            ids = state["other_ids"]
            assert api(port, "GET", f"/api/v1/notifications/{ids[0]}/", token=student["access"])[0] == 403
            assert api(port, "POST", f"/api/v1/notifications/{ids[0]}/read/", {}, token=student["access"])[0] == 403
            assert api(port, "GET", "/api/v1/notifications/99999999/", token=student["access"])[0] == 404
            assert api(port, "GET", "/api/v1/notifications/abc/", token=student["access"])[0] == 404
            assert api(port, "GET", "/api/v1/notifications/")[0] == 401
            assert api(port, "DELETE", "/api/v1/notifications/")[0] == 405

        def preferences_and_outbox():
            token = student["access"]
            status, _, prefs = api(port, "GET", "/api/v1/notifications/preferences/me/", token=token)
            assert status == 200 and prefs["in_app_enabled"] is True and prefs["email_enabled"] is False
            assert prefs["timezone"] == "UTC" and prefs["quiet_hours_start"] == "22:00", prefs
            status, _, bad = api(port, "PATCH", "/api/v1/notifications/preferences/me/",
                                 {"timezone": "Mars/Olympus", "quiet_hours_start": "25:00", "phone_number": "0612",
                                  "sms_enabled": "yes", "language": "de_DE!", "colour": "blue"}, token=token)
            assert status == 400 and set(bad["details"]) == {"timezone", "quiet_hours_start", "phone_number", "sms_enabled",
                                                             "language", "colour"}, bad
            status, _, bad = api(port, "PATCH", "/api/v1/notifications/preferences/me/", {"telegram_enabled": True}, token=token)
            assert status == 400 and "telegram_chat_id" in bad["details"]
            status, _, prefs = api(port, "PATCH", "/api/v1/notifications/preferences/me/",
                                   {"email_enabled": True, "telegram_enabled": True, "telegram_chat_id": "123456789",
                                    "payment_notifications": False, "timezone": "Africa/Casablanca", "language": "fr"},
                                   token=token)
            assert status == 200 and prefs["email_enabled"] and prefs["telegram_chat_id"] == "123456789", prefs
            async def posted_while_connected():
                async with websockets.connect(f"ws://127.0.0.1:{port}/ws/notifications/?token={token}") as tab:
                    assert json.loads(await tab.recv())["type"] == "connected"
                    posted = await asyncio.get_running_loop().run_in_executor(None, event, port, {
                        "type": "homework_assigned", "recipients": {"users": [student["id"]]},
                        "data": {"homework_title": "Sourate Al-Mulk", "due_date": "lundi"}})
                    return posted, json.loads(await asyncio.wait_for(tab.recv(), 2))
            (_, _, answer), push = asyncio.run(posted_while_connected())
            # The rooms check below expects the student offline again (after the presence grace).
            deadline = time.time() + 5
            while api(port, "GET", f"/api/v1/presence/users/{student['id']}/", token=token)[2]["online"]:
                assert time.time() < deadline, "the student stayed online after the socket closed"
                time.sleep(0.05)
            nid = answer["notification_ids"][0]
            assert answer["deliveries_queued"] == 2, answer
            _, _, item = api(port, "GET", f"/api/v1/notifications/{nid}/", token=token)
            assert item["title"] == "Nouveau devoir", "rendered in the preferred language"
            assert item["delivery_method"] == ["IN_APP", "EMAIL", "TELEGRAM"], item["delivery_method"]
            assert push["id"] == nid and push["data"]["notification"]["delivery_method"] == item["delivery_method"], push
            status, _, deliveries = api(port, "GET", f"/api/v1/notifications/{nid}/deliveries/", token=token)
            channels = {d["channel"]: d for d in deliveries["results"]}
            assert set(channels) == {"IN_APP", "EMAIL", "TELEGRAM"} and channels["EMAIL"]["destination"] == student["email"]
            assert channels["TELEGRAM"]["status"] == "PENDING"
            _, _, answer = event(port, {"type": "payment_due", "recipients": {"users": [student["id"]]}, "data": {}})
            assert answer["deliveries_queued"] == 0, "payment notifications are switched off"
            api(port, "PATCH", "/api/v1/notifications/preferences/me/", {"quiet_hours_enabled": True,
                "quiet_hours_start": "00:00", "quiet_hours_end": "23:59", "timezone": "UTC"}, token=token)
            _, _, quiet = event(port, {"type": "homework_assigned", "recipients": {"users": [student["id"]]}, "data": {}})
            _, _, urgent = event(port, {"type": "homework_assigned", "priority": "URGENT",
                                        "recipients": {"users": [student["id"]]}, "data": {}})
            deferred = psql(f"SELECT bool_and(available_at > now() + interval '1 minute') FROM deliveries WHERE notification_id = {quiet['notification_ids'][0]}")
            immediate = psql(f"SELECT bool_and(available_at <= now()) FROM deliveries WHERE notification_id = {urgent['notification_ids'][0]}")
            assert deferred == "t" and immediate == "t", (deferred, immediate)
            # PUT leaves what it does not carry unchanged (DRF): TuranTalim's switches keep the quiet hours.
            status, _, kept = api(port, "PUT", "/api/v1/notifications/preferences/me/", {"sms_enabled": False}, token=token)
            assert status == 200 and kept["email_enabled"] is True and kept["quiet_hours_enabled"] is True, kept
            assert kept["language"] == "fr" and kept["quiet_hours_start"] == "00:00", kept

        def guardians_and_children():
            status, _, children = api(port, "GET", "/api/v1/users/me/children/", token=parent["access"])
            assert status == 200 and [c["id"] for c in children["results"]] == [student["id"]]
            status, _, guardians = api(port, "GET", f"/api/v1/users/{student['id']}/guardians/", api_key=KEY)
            assert [g["id"] for g in guardians["results"]] == [parent["id"]]
            status, _, bad = api(port, "POST", f"/api/v1/users/{student['id']}/guardians/", {"parent": other["id"]}, api_key=KEY)
            assert status == 400 and "parent" in bad["details"]
            assert api(port, "POST", f"/api/v1/users/{student['id']}/guardians/", {"parent": parent["id"]},
                       token=other["access"])[0] == 403
            assert api(port, "GET", f"/api/v1/users/{student['id']}/guardians/", token=other["access"])[0] == 403
            assert api(port, "DELETE", f"/api/v1/users/{student['id']}/guardians/{parent['id']}/", api_key=KEY)[0] == 204
            assert api(port, "DELETE", f"/api/v1/users/{student['id']}/guardians/{parent['id']}/", api_key=KEY)[0] == 404

        def rooms_rest():
            room = f"course:{uuid.uuid4().int % 10**8}"  # its own: the database is shared by the suites
            status, _, added = api(port, "POST", f"/api/v1/rooms/{room}/members/", {"user_ids": [student["id"], other["id"]]},
                                   api_key=KEY)
            assert status == 201 and added["added"] == 2
            status, _, members = api(port, "GET", f"/api/v1/rooms/{room}/members/", token=student["access"])
            assert status == 200 and members["count"] == 2
            assert api(port, "GET", f"/api/v1/rooms/{room}/members/", token=parent["access"])[0] == 403
            assert api(port, "POST", f"/api/v1/rooms/{room}/members/", {"user_ids": [99999999]}, api_key=KEY)[0] == 400
            assert api(port, "POST", "/api/v1/rooms/nonsense/members/", {"user_ids": [1]}, api_key=KEY)[0] == 400
            assert api(port, "DELETE", f"/api/v1/rooms/{room}/members/{other['id']}/", api_key=KEY)[0] == 204
            assert api(port, "DELETE", f"/api/v1/rooms/{room}/members/{other['id']}/", api_key=KEY)[0] == 404
            status, _, presence = api(port, "POST", "/api/v1/presence/query/", {"user_ids": [student["id"], other["id"]]},
                                      token=student["access"])
            assert status == 200 and [p["online"] for p in presence["results"]] == [False, False]

        print("[events]")
        checks.run("guardians_of attendance_alert: Arabic title live in < 1 s, unread in REST, read everywhere, idempotent",
                   lambda: asyncio.run(guardian_alert_in_arabic_live_then_read_everywhere()))
        checks.run("recipients by users, rooms and roles; catalogue templates in en/ar/fr", recipients_by_users_rooms_roles)
        checks.run("an event with its own title and message", custom_title_without_catalogue)
        checks.run("all: one announcement in every list, read state per user", announcement_to_everyone)
        checks.run("event validation names each field; students cannot post; no key is 401", event_validation_and_access)
        print("[notifications]")
        checks.run("every list filter, pagination with page_info, ordering, and bad filters", list_filters_pagination_ordering)
        checks.run("Khatma, TuranTalim and Madrasti aliases; bulk read; unread list and count", aliases_and_read_endpoints)
        checks.run("another user's notification 403, missing 404, no token 401, wrong method 405", ownership_and_errors)
        checks.run("preferences: defaults, validation, outbox by channel/category/quiet hours, deliveries", preferences_and_outbox)
        checks.run("guardians and children", guardians_and_children)
        checks.run("rooms and presence REST", rooms_rest)

    def service_key_rate_limit():
        # A service key has its own hourly budget (HUB_RATE_LIMIT_SERVICE); a bulk request is one.
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_SERVICE=2) as limited:
            event = {"type": "enrollment.created", "data": {"course": "Tajweed 1"}}
            status, _, answer = api(limited.port, "POST", "/api/v1/events/bulk/", {"events": [event] * 5}, api_key=KEY)
            assert status == 202 and len(answer["results"]) == 5, (status, answer)
            assert api(limited.port, "POST", "/api/v1/events/", event, api_key=KEY)[0] == 202
            status, headers, body = api(limited.port, "POST", "/api/v1/events/", event, api_key=KEY)
            assert status == 429 and body["error_code"] == "RATE_LIMIT_EXCEEDED", (status, body)
            assert body["details"]["limit"] == 2 and int(headers["retry-after"]) >= 1, (body, headers)

    checks.run("a service key's hourly limit: a bulk request counts once, then 429 with Retry-After", service_key_rate_limit)
    checks.exit()


if __name__ == "__main__":
    main()
