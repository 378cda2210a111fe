#!/usr/bin/env python3
"""The events bulk endpoint and the event path under concurrency, through hubd and PostgreSQL:
a bulk request stored whole (results in order, pushes live), idempotency per event, per-index
errors that store nothing, the limits (empty, over 1,000), and 2,000 events posted concurrently
over 20 connections arriving exactly once and in id order at every recipient."""
import asyncio
import json
import os
import sys
import threading
import time
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, psql, register_user as register  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex


def bulk(port, events, raw=None):
    return api(port, "POST", "/api/v1/events/bulk/", {"events": events} if raw is None else None, api_key=KEY, raw=raw)


def notification_count():
    return int(psql("SELECT count(*) FROM notifications"))


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000) as hubd:
        port = hubd.port
        student = register(port, "Amina")
        parent = register(port, "Hassan", role="PARENT", language="ar")
        classmate = register(port, "Omar", language="fr")
        room = f"class:{uuid.uuid4().int % 100000}"
        status, _, _ = api(port, "POST", f"/api/v1/users/{student['id']}/guardians/", {"parent": parent["id"]}, api_key=KEY)
        assert status == 201
        status, _, _ = api(port, "POST", f"/api/v1/rooms/{room}/members/",
                           {"user_ids": [student["id"], classmate["id"]]}, api_key=KEY)
        assert status == 201

        def roll_call():
            """A roll call: three events of three audiences in one request, answered in order, pushed live."""
            async def run():
                url = f"ws://127.0.0.1:{port}/ws/notifications/?token="
                async with websockets.connect(url + parent["access"]) as parent_tab, \
                        websockets.connect(url + classmate["access"]) as classmate_tab:
                    for tab in (parent_tab, classmate_tab):
                        assert json.loads(await tab.recv())["type"] == "connected"
                    events = [
                        {"type": "attendance_alert", "recipients": {"guardians_of": [student["id"]]},
                         "data": {"student_name": "Amina", "status": "absent", "subject": "Math", "class": "1A", "session_date": "2026-12-03", "session_time": "09:00"}},
                        {"type": "system_alert", "recipients": {"rooms": [room]}, "data": {"message": "Room closed"}},
                        {"type": "system_alert", "recipients": {"users": [classmate["id"]]}, "title": "Hello",
                         "message": "Direct", "priority": "low"},
                    ]
                    status, _, answer = await asyncio.get_running_loop().run_in_executor(None, bulk, port, events)
                    assert status == 202, (status, answer)
                    results = answer["results"]
                    assert [r["count"] for r in results] == [1, 2, 1], answer
                    assert all(r["duplicate"] is False for r in results) and answer["notifications_sent"] == 4
                    assert len({r["event_id"] for r in results}) == 3
                    push = json.loads(await asyncio.wait_for(parent_tab.recv(), 2))
                    assert push["type"] == "attendance_alert" and push["id"] == results[0]["notification_ids"][0]
                    assert push["data"]["notification"]["title"] == "تنبيه الحضور", push["data"]["notification"]["title"]
                    got = [json.loads(await asyncio.wait_for(classmate_tab.recv(), 2)) for _ in range(2)]
                    assert [p["id"] for p in got] == sorted(p["id"] for p in got), got
                    assert {p["data"]["notification"]["title"] for p in got} >= {"Hello"}, got
                    assert got[-1]["data"]["notification"]["priority"] == "LOW"
            asyncio.run(run())

        def idempotent_per_event():
            """Keys work per event: a repeat creates nothing; a mix creates only the new one; a key twice in one request is one event."""
            first, second = uuid.uuid4().hex, uuid.uuid4().hex
            alert = {"type": "system_alert", "recipients": {"users": [student["id"]]}, "data": {"message": "x"}}
            status, _, answer = bulk(port, [dict(alert, idempotency_key=first), dict(alert, idempotency_key=first)])
            assert status == 202, answer
            one, two = answer["results"]
            assert one["duplicate"] is False and two["duplicate"] is True and one["event_id"] == two["event_id"], answer
            assert one["notification_ids"] == two["notification_ids"] and len(one["notification_ids"]) == 1
            before = notification_count()
            status, _, again = bulk(port, [dict(alert, idempotency_key=first), dict(alert, idempotency_key=second)])
            assert status == 202, again
            repeat, fresh = again["results"]
            assert repeat["duplicate"] is True and repeat["event_id"] == one["event_id"], again
            assert repeat["notification_ids"] == one["notification_ids"]
            assert fresh["duplicate"] is False and fresh["count"] == 1
            assert notification_count() == before + 1
            status, _, single = api(port, "POST", "/api/v1/events/", dict(alert, idempotency_key=second), api_key=KEY)
            assert status == 202 and single["duplicate"] is True and single["event_id"] == fresh["event_id"], single

        def errors_name_the_index_and_store_nothing():
            before_events = int(psql("SELECT count(*) FROM events"))
            before = notification_count()
            good = {"type": "system_alert", "recipients": {"users": [student["id"]]}, "data": {"message": "ok"}}
            status, _, answer = bulk(port, [good, {"type": "no_such_type", "recipients": {"users": [1]}},
                                            good, {"type": "system_alert", "recipients": {"roles": ["PILOT"]}},
                                            {"type": "system_alert", "recipients": 5}, "not an object"])
            assert status == 400 and answer["error_code"] == "VALIDATION_ERROR", (status, answer)
            details = answer["details"]
            assert set(details) == {"events[1].type", "events[3].recipients.roles", "events[4].recipients", "events[5]"}, details
            status, _, answer = bulk(port, [good, dict(good, priority="SOON")])
            assert status == 400 and list(answer["details"]) == ["events[1].priority"], answer
            assert notification_count() == before and int(psql("SELECT count(*) FROM events")) == before_events

        def limits():
            status, _, answer = bulk(port, [])
            assert status == 400 and "events" in answer["details"], (status, answer)
            status, _, answer = api(port, "POST", "/api/v1/events/bulk/", {}, api_key=KEY)
            assert status == 400 and "events" in answer["details"], (status, answer)
            before = notification_count()
            many = [{"type": "system_alert", "recipients": {"users": [student["id"]]}}] * 1001
            status, _, answer = bulk(port, many)
            assert status == 413 and "1000" in answer["error"] and answer["error_code"] == "TOO_MANY_EVENTS", (status, answer)
            assert notification_count() == before
            status, _, answer = api(port, "POST", "/api/v1/events/bulk/", {"events": []}, token=student["access"])
            assert status == 403, (status, answer)
            status, _, answer = api(port, "POST", "/api/v1/events/bulk/", {"events": []})
            assert status == 401, (status, answer)
            status, _, answer = bulk(port, [{"type": "system_alert", "recipients": {"users": [student["id"]]}}] * 1000)
            assert status == 202 and len(answer["results"]) == 1000 and answer["notifications_sent"] == 1000, status

        def concurrent_events_arrive_once_in_order():
            """2,000 events over 20 connections at once, to 40 users: each gets all of theirs, once, in id order."""
            users = [register(port, f"Load{i}") for i in range(40)]
            created = {u["id"]: [] for u in users}
            lock = threading.Lock()
            failures = []

            async def run():
                url = f"ws://127.0.0.1:{port}/ws/notifications/?token="
                sockets = [await websockets.connect(url + u["access"], max_queue=None) for u in users]
                for socket in sockets:
                    assert json.loads(await socket.recv())["type"] == "connected"

                def post(worker):
                    for n in range(100):
                        target = users[(worker * 7 + n * 13) % len(users)]["id"]
                        status, _, answer = api(port, "POST", "/api/v1/events/",
                                                {"type": "system_alert", "recipients": {"users": [target]},
                                                 "data": {"message": f"{worker}.{n}"}}, api_key=KEY)
                        if status != 202:
                            failures.append((status, answer))
                            continue
                        with lock:
                            created[target].extend(answer["notification_ids"])

                threads = [threading.Thread(target=post, args=(w,)) for w in range(20)]
                for thread in threads:
                    thread.start()
                await asyncio.get_running_loop().run_in_executor(None, lambda: [t.join() for t in threads])
                assert not failures, failures[:3]
                assert sum(len(ids) for ids in created.values()) == 2000
                for user, socket in zip(users, sockets):
                    expected = created[user["id"]]
                    got = []
                    deadline = time.time() + 10
                    while len(got) < len(expected) and time.time() < deadline:
                        message = json.loads(await asyncio.wait_for(socket.recv(), max(0.1, deadline - time.time())))
                        if message["type"] == "system_alert":
                            got.append(message["id"])
                    assert got == sorted(got), f"user {user['id']}: out of order {got}"
                    assert sorted(got) == sorted(expected), f"user {user['id']}: {len(got)} of {len(expected)}"
                    try:
                        extra = await asyncio.wait_for(socket.recv(), 0.05)
                        raise AssertionError(f"unexpected extra message {extra[:80]}")
                    except asyncio.TimeoutError:
                        pass
                for socket in sockets:
                    await socket.close()
            asyncio.run(run())

        print("[bulk]")
        checks.run("a roll call of three audiences in one request: results in order, pushed live", roll_call)
        checks.run("idempotency per event, also within one request and against single events", idempotent_per_event)
        checks.run("errors name each event by index and nothing is stored", errors_name_the_index_and_store_nothing)
        checks.run("empty list 400, more than 1,000 events 413 naming the limit, 1,000 accepted; keys required", limits)
        checks.run("2,000 concurrent events over 20 connections: exactly once, in id order per user",
                   concurrent_events_arrive_once_in_order)
    checks.exit()


if __name__ == "__main__":
    main()
