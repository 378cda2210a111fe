#!/usr/bin/env python3
"""The inbox states beside read, through hubd with two tabs of one user (Python `websockets`) and
REST: seen, archive/unarchive, snooze (a short `until`, announced again as
`notification_unsnoozed`), delete, expiry, and announcements for new users. Every message and
REST answer carries the right {unread_count, unseen_count}."""
import asyncio
import datetime
import json
import os
import sys
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, psql, register_user as register  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex


def iso(seconds_from_now):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post(port, body):
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, (status, answer)
    return answer


def note(port, user, title="Homework", **extra):
    answer = post(port, {"type": "homework_assigned", "recipients": {"users": [user["id"]]}, "title": title,
                         "message": f"{title}!", **extra})
    return answer["notification_ids"][0] if answer["notification_ids"] else None


async def next_of(ws, kind, timeout=5):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == kind:
            return message


async def quiet(ws, kind, seconds=0.4):
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), seconds))
            if message["type"] == kind:
                raise AssertionError(f"unexpected {message}")
    except asyncio.TimeoutError:
        pass


def counts(port, user):
    status, _, body = api(port, "GET", "/api/v1/notifications/unread-count/", token=user["access"])
    assert status == 200, body
    return body["unread_count"], body["unseen_count"]


def listed(port, user, query=""):
    status, _, body = api(port, "GET", f"/api/v1/notifications/?page_size=100{query}", token=user["access"])
    assert status == 200, body
    return [n["id"] for n in body["results"]]


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY) as hubd:
        port = hubd.port
        url = f"ws://127.0.0.1:{port}/ws/notifications/"

        async def tabs(user):
            one, two = await websockets.connect(url), await websockets.connect(url)
            hellos = []
            for ws in (one, two):
                await ws.send(json.dumps({"type": "auth", "token": user["access"]}))
                hellos.append(await next_of(ws, "connected"))
            return one, two, hellos

        async def seen_in_two_tabs():
            user = register(port, "Seen")
            first, second = note(port, user, "one"), note(port, user, "two")
            one, two, hellos = await tabs(user)
            for hello in hellos:
                assert hello["data"]["unread_count"] == 2 and hello["data"]["unseen_count"] == 2, hello
            third = note(port, user, "three")
            for ws in (one, two):
                push = await next_of(ws, "homework_assigned")
                assert push["id"] == third and push["data"]["notification"]["is_seen"] is False, push
            # The bell opened in one tab: everything up to `second` is seen, in both tabs.
            await one.send(json.dumps({"type": "mark_seen", "up_to_id": second}))
            for ws in (one, two):
                update = await next_of(ws, "notification_updated")
                assert update["data"] == {"ids": [first, second], "state": "seen", "unread_count": 3,
                                          "unseen_count": 1}, update
            assert counts(port, user) == (3, 1)
            assert listed(port, user, "&is_seen=false") == [third]
            assert listed(port, user, "&is_seen=true") == [second, first]
            # REST does the same and reaches both tabs.
            status, _, body = api(port, "POST", "/api/v1/notifications/seen/", {"ids": [third]}, token=user["access"])
            assert status == 200 and body == {"state": "seen", "ids": [third], "unread_count": 3, "unseen_count": 0}, body
            for ws in (one, two):
                assert (await next_of(ws, "notification_updated"))["data"]["unseen_count"] == 0
            # Reading keeps the two numbers consistent: unseen is never above unread.
            api(port, "POST", f"/api/v1/notifications/{first}/read/", {}, token=user["access"])
            for ws in (one, two):
                read = await next_of(ws, "notification_read")
                assert read["data"] == {"ids": [first], "unread_count": 2, "unseen_count": 0}, read
            status, _, bad = api(port, "POST", "/api/v1/notifications/seen/", {}, token=user["access"])
            assert status == 400 and "ids" in bad["details"], bad
            for ws in (one, two):
                await ws.close()

        async def archive_in_two_tabs():
            user = register(port, "Archive")
            kept, archived = note(port, user, "kept"), note(port, user, "archived")
            one, two, _ = await tabs(user)
            await two.send(json.dumps({"type": "archive", "id": archived}))
            for ws in (one, two):
                update = await next_of(ws, "notification_updated")
                assert update["data"] == {"ids": [archived], "state": "archived", "unread_count": 1,
                                          "unseen_count": 1}, update
            assert listed(port, user) == [kept] and listed(port, user, "&archived=true") == [archived]
            status, _, one_item = api(port, "GET", f"/api/v1/notifications/{archived}/", token=user["access"])
            assert one_item["is_archived"] is True and one_item["archived_at"], one_item
            status, _, body = api(port, "POST", f"/api/v1/notifications/{archived}/unarchive/", {}, token=user["access"])
            assert status == 200 and body["unread_count"] == 2 and body["ids"] == [archived], body
            for ws in (one, two):
                assert (await next_of(ws, "notification_updated"))["data"]["state"] == "unarchived"
            assert listed(port, user) == [archived, kept]
            status, _, _ = api(port, "DELETE", f"/api/v1/notifications/{kept}/", token=user["access"])
            assert status == 204
            for ws in (one, two):
                update = await next_of(ws, "notification_updated")
                assert update["data"]["state"] == "deleted" and update["data"]["unread_count"] == 1, update
            assert api(port, "GET", f"/api/v1/notifications/{kept}/", token=user["access"])[0] == 404
            other = register(port, "Other")
            assert api(port, "POST", f"/api/v1/notifications/{archived}/archive/", {}, token=other["access"])[0] == 403
            assert api(port, "DELETE", f"/api/v1/notifications/{archived}/", token=other["access"])[0] == 403
            for ws in (one, two):
                await ws.close()

        async def snooze_in_two_tabs():
            user = register(port, "Snooze")
            nid = note(port, user, "later")
            one, two, _ = await tabs(user)
            await one.send(json.dumps({"type": "snooze", "id": nid, "until": iso(2)}))
            for ws in (one, two):
                update = await next_of(ws, "notification_updated")
                assert update["data"] == {"ids": [nid], "state": "snoozed", "unread_count": 0, "unseen_count": 0}, update
            assert listed(port, user) == [] and counts(port, user) == (0, 0)
            for ws in (one, two):
                back = await next_of(ws, "notification_unsnoozed", timeout=6)
                assert back["id"] == nid and back["data"]["notification"]["title"] == "later", back
                assert back["data"]["unread_count"] == 1 and back["data"]["unseen_count"] == 1, back
            assert listed(port, user) == [nid] and counts(port, user) == (1, 1)
            status, _, bad = api(port, "POST", f"/api/v1/notifications/{nid}/snooze/", {"until": iso(-60)},
                                 token=user["access"])
            assert status == 400 and set(bad["details"]) == {"until"}, bad
            status, _, bad = api(port, "POST", f"/api/v1/notifications/{nid}/snooze/", {"until": "soon"},
                                 token=user["access"])
            assert status == 400 and set(bad["details"]) == {"until"}, bad
            await quiet(one, "notification_unsnoozed")
            for ws in (one, two):
                await ws.close()

        async def expiry():
            user = register(port, "Expiry")
            one, two, _ = await tabs(user)
            short = note(port, user, "short-lived", expires_at=iso(1.5))
            for ws in (one, two):
                assert (await next_of(ws, "homework_assigned"))["id"] == short
            assert counts(port, user) == (1, 1)
            assert listed(port, user, f"&expires_at__gte={iso(0)}") == [short]
            past = note(port, user, "already over", expires_at=iso(-5))
            await quiet(one, "homework_assigned")
            assert past not in listed(port, user), "an expired notification is never listed"
            # Madrasti's system_alert carries expires_at in its data.
            alert = post(port, {"type": "system_alert", "recipients": {"users": [user["id"]]},
                                "data": {"alert_type": "maintenance", "title": "System Maintenance",
                                         "message": "Down at 23:00", "priority": "high", "expires_at": iso(1.5)}})
            for ws in (one, two):
                push = await next_of(ws, "system_alert")
                assert push["data"]["expires_at"] and push["data"]["notification"]["title"] == "System Maintenance", push
            await asyncio.sleep(2)
            assert counts(port, user) == (0, 0) and listed(port, user) == [], "expired: neither counted nor listed"
            assert alert["notification_ids"][0] not in listed(port, user)
            # Nor replayed on resume.
            await one.send(json.dumps({"type": "resume", "last_id": 0}))
            resumed = await next_of(one, "resumed")
            assert resumed["data"]["count"] == 0, resumed
            status, _, bad = api(port, "POST", "/api/v1/events/", {"type": "homework_assigned", "title": "x", "message": "y",
                                 "recipients": {"users": [user["id"]]}, "expires_at": "tomorrow"}, api_key=KEY)
            assert status == 400 and "expires_at" in bad["details"], bad
            for ws in (one, two):
                await ws.close()

        def announcements_and_new_users():
            old = register(port, "OldTimer")
            before = post(port, {"type": "system_alert", "recipients": {"all": True},
                                 "data": {"title": "Old news", "message": "Before you came"}})["notification_ids"][0]
            welcome = post(port, {"type": "system_alert", "recipients": {"all": True}, "include_new_users": True,
                                  "data": {"title": "Rules", "message": "For everyone"}})["notification_ids"][0]
            new = register(port, "Newcomer")
            assert before in listed(port, old) and welcome in listed(port, old)
            assert listed(port, new) == [welcome], "a new account sees only what is meant for new users"
            assert counts(port, new) == (1, 1)
            # Per-user states of an announcement: one user's archive is not another's.
            status, _, body = api(port, "POST", f"/api/v1/notifications/{welcome}/archive/", {}, token=new["access"])
            assert status == 200 and body["unread_count"] == 0, body
            assert listed(port, new) == [] and welcome in listed(port, old)
            status, _, body = api(port, "POST", "/api/v1/notifications/seen/", {"up_to_id": welcome}, token=old["access"])
            assert status == 200 and before in body["ids"] and welcome in body["ids"], body
            assert api(port, "DELETE", f"/api/v1/notifications/{before}/", token=old["access"])[0] == 204
            assert before not in listed(port, old)
            assert psql(f"SELECT count(*) FROM notifications WHERE id = {int(before)}") == "1", "kept for the others"
            # The suites share one database: later ones must not see these announcements.
            psql(f"DELETE FROM notifications WHERE id IN ({int(before)}, {int(welcome)})")

        checks.run("seen across two tabs (socket up_to_id, REST ids), counts in every message and REST",
                   lambda: asyncio.run(seen_in_two_tabs()))
        checks.run("archive, unarchive and delete across two tabs; ?archived=true; others' are 403",
                   lambda: asyncio.run(archive_in_two_tabs()))
        checks.run("snooze for 2 s: hidden and uncounted, then notification_unsnoozed in both tabs",
                   lambda: asyncio.run(snooze_in_two_tabs()))
        checks.run("expires_at (event field and system_alert data): not listed, counted, pushed or replayed",
                   lambda: asyncio.run(expiry()))
        checks.run("announcements: new users see only include_new_users ones; per-user archive, seen, delete",
                   announcements_and_new_users)
    checks.exit()


if __name__ == "__main__":
    main()
