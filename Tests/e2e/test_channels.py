#!/usr/bin/env python3
"""/ws/notifications/ through hubd with Python `websockets` clients and a real PostgreSQL:
the three ways to authenticate, heartbeat, 4000 on silence, 401/403 before the upgrade, live
pushes, presence in rooms (grace period on reload), resume without gaps or duplicates, and read
state shared between tabs."""
import asyncio
import json
import os
import sys
import time
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, RawWebSocket, api, register_user as register  # noqa: E402

checks = Checks()
SERVICE_KEY = "svc-" + uuid.uuid4().hex


def notify(port, user_id, title="Absence", type_="attendance_alert"):
    status, _, body = api(port, "POST", "/api/v1/notifications/", {
        "recipient": user_id, "notification_type": type_, "title": title, "message": f"{title} message",
        "title_arabic": "غياب", "priority": "HIGH", "data": {"student_id": 7}}, api_key=SERVICE_KEY)
    assert status == 201, (status, body)
    return body["id"]


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_type(ws, wanted, timeout=5):
    """Skips other messages until one of type `wanted` arrives."""
    deadline = time.time() + timeout
    while True:
        message = await recv_json(ws, max(0.1, deadline - time.time()))
        if message["type"] == wanted:
            return message


async def nothing_of_type(ws, unwanted, seconds):
    try:
        while True:
            message = await recv_json(ws, seconds)
            assert message["type"] != unwanted, message
    except asyncio.TimeoutError:
        return


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=SERVICE_KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_PRESENCE_GRACE_MS=1500) as hubd:
        port = hubd.port
        base = f"ws://127.0.0.1:{port}/ws/notifications/"
        amina, omar, outsider = register(port, "Amina"), register(port, "Omar"), register(port, "Yusuf")
        staff = register(port, "Staff", role="STAFF", api_key=SERVICE_KEY)
        status, _, _ = api(port, "POST", "/api/v1/rooms/class:5/members/", {"user_ids": [amina["id"], omar["id"]]},
                           api_key=SERVICE_KEY)
        assert status == 201

        async def three_ways_to_authenticate():
            async with websockets.connect(base, extra_headers={"Authorization": f"Bearer {amina['access']}"}) as ws:
                hello = await recv_json(ws)
                assert hello["type"] == "connected" and hello["data"]["user_id"] == amina["id"], hello
                assert {"session_id", "heartbeat_interval", "unread_count", "server_time"} <= set(hello["data"])
                assert hello["timestamp"].endswith("Z") and "." in hello["timestamp"]
            async with websockets.connect(f"{base}{amina['id']}/?token={amina['access']}") as ws:
                assert (await recv_json(ws))["type"] == "connected"
            async with websockets.connect(base) as ws:
                await ws.send(json.dumps({"type": "heartbeat"}))
                assert (await recv_json(ws))["data"]["code"] == "auth_required"
                await ws.send(json.dumps({"type": "auth", "token": amina["access"]}))
                hello = await recv_json(ws)
                assert hello["type"] == "connected" and hello["data"]["user_id"] == amina["id"]

        async def refused_before_upgrade():
            for url, expected in [(f"{base}?token=bad.token.value", 401), (f"{base}{omar['id']}/?token={amina['access']}", 403)]:
                try:
                    async with websockets.connect(url):
                        raise AssertionError(f"{url} upgraded")
                except websockets.exceptions.InvalidStatusCode as error:
                    assert error.status_code == expected, (url, error.status_code)

        async def bad_first_message_token_closes_4401():
            async with websockets.connect(base) as ws:
                await ws.send(json.dumps({"type": "auth", "token": "nope"}))
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                except websockets.exceptions.ConnectionClosed as closed:
                    assert closed.rcvd.code == 4401, closed.rcvd
                    return
                raise AssertionError("still open")

        async def heartbeat_and_errors():
            async with websockets.connect(f"{base}?token={amina['access']}") as ws:
                await recv_type(ws, "connected")
                await ws.send(json.dumps({"type": "heartbeat"}))
                ack = await recv_json(ws)
                assert ack["type"] == "heartbeat_ack" and "server_time" in ack["data"], ack
                await ws.send("{not json")
                assert (await recv_json(ws))["data"]["code"] == "invalid_json"
                await ws.send(json.dumps({"type": "dance"}))
                assert (await recv_json(ws))["data"]["code"] == "unknown_type"
                await ws.send(json.dumps({"type": "subscribe", "room": "class:6"}))
                assert (await recv_json(ws))["data"]["code"] == "forbidden"
                await ws.send(json.dumps({"type": "subscribe", "room": "not a room"}))
                assert (await recv_json(ws))["data"]["code"] == "invalid_message"
                await ws.send(json.dumps({"type": "heartbeat"}))
                assert (await recv_json(ws))["type"] == "heartbeat_ack", "the connection stays open after errors"

        async def live_push_and_read_state_across_tabs():
            url = f"{base}?token={amina['access']}"
            async with websockets.connect(url) as tab1, websockets.connect(url) as tab2:
                await recv_type(tab1, "connected")
                await recv_type(tab2, "connected")
                started = time.time()
                nid = await asyncio.get_running_loop().run_in_executor(None, notify, port, amina["id"], "Absence today")
                for tab in (tab1, tab2):
                    push = await recv_type(tab, "attendance_alert")
                    assert push["id"] == nid and push["data"]["notification"]["title"] == "Absence today", push
                    assert push["data"]["notification"]["title_arabic"] == "غياب" and push["data"]["notification"]["is_read"] is False
                assert time.time() - started < 1.0
                await tab1.send(json.dumps({"type": "mark_read", "id": nid}))
                for tab in (tab1, tab2):
                    read = await recv_type(tab, "notification_read")
                    assert read["data"]["ids"] == [nid], read
                second = await asyncio.get_running_loop().run_in_executor(None, notify, port, amina["id"])
                await recv_type(tab2, "attendance_alert")
                status, _, _ = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: api(port, "POST", f"/api/v1/notifications/{second}/mark-read/", {}, token=amina["access"]))
                assert status == 200
                for tab in (tab1, tab2):
                    read = await recv_type(tab, "notification_read")
                    assert read["data"]["ids"] == [second] and read["data"]["unread_count"] >= 0

        async def connected_carries_the_exact_unread_count():
            # The handshake reads the user and the count in one statement; it must match REST.
            person = register(port, "Counted")
            ids = [notify(port, person["id"], f"C{i}") for i in range(3)]
            api(port, "POST", f"/api/v1/notifications/{ids[0]}/mark-read/", {}, token=person["access"])
            rest = api(port, "GET", "/api/v1/notifications/unread-count/", token=person["access"])[2]["unread_count"]
            for url, first in [(f"{base}?token={person['access']}", None), (base, {"type": "auth", "token": person["access"]})]:
                async with websockets.connect(url) as ws:
                    if first:
                        await ws.send(json.dumps(first))
                    hello = await recv_type(ws, "connected")
                    assert hello["data"]["unread_count"] == rest >= 2, (hello["data"], rest)

        async def concurrent_events_all_arrive():
            # Events committed at the same time may be pushed out of id order; none may be dropped.
            person = register(port, "Concurrent")
            async with websockets.connect(f"{base}?token={person['access']}") as ws:
                await recv_type(ws, "connected")
                loop = asyncio.get_running_loop()
                from concurrent.futures import ThreadPoolExecutor
                with ThreadPoolExecutor(max_workers=16) as pool:
                    ids = await asyncio.gather(*[loop.run_in_executor(pool, notify, port, person["id"], f"N{i}")
                                                 for i in range(48)])
                received = [(await recv_type(ws, "attendance_alert"))["id"] for _ in ids]
                assert sorted(received) == sorted(ids), (len(set(received)), len(ids))
                await nothing_of_type(ws, "attendance_alert", 0.3)

        async def resume_gets_exactly_the_missed():
            async with websockets.connect(f"{base}?token={omar['access']}") as ws:
                await recv_type(ws, "connected")
                first = await asyncio.get_running_loop().run_in_executor(None, notify, port, omar["id"], "before")
                assert (await recv_type(ws, "attendance_alert"))["id"] == first
            missed = [await asyncio.get_running_loop().run_in_executor(None, notify, port, omar["id"], f"missed {i}")
                      for i in range(3)]
            async with websockets.connect(f"{base}?token={omar['access']}&last_id={first}") as ws:
                await recv_type(ws, "connected")
                got = []
                while True:
                    message = await recv_json(ws)
                    if message["type"] == "resumed":
                        break
                    got.append(message["id"])
                assert got == missed, (got, missed)
                assert message["data"] == {"count": 3, "last_id": missed[-1]}, message
            async with websockets.connect(f"{base}?token={omar['access']}") as ws:
                await recv_type(ws, "connected")
                await ws.send(json.dumps({"type": "resume", "last_id": missed[0]}))
                ids = [(await recv_json(ws))["id"] for _ in range(2)]
                assert ids == missed[1:], ids
                assert (await recv_json(ws))["type"] == "resumed"

        async def resume_races_live_pushes():
            async with websockets.connect(f"{base}?token={omar['access']}") as ws:
                await recv_type(ws, "connected")
            base_id = await asyncio.get_running_loop().run_in_executor(None, notify, port, omar["id"], "base")
            backlog = [await asyncio.get_running_loop().run_in_executor(None, notify, port, omar["id"], f"b{i}") for i in range(5)]

            async def publisher():
                return [await asyncio.get_running_loop().run_in_executor(None, notify, port, omar["id"], f"live {i}")
                        for i in range(5)]

            async with websockets.connect(f"{base}?token={omar['access']}&last_id={base_id}") as ws:
                live_task = asyncio.create_task(publisher())
                live = await live_task
                seen = []
                deadline = time.time() + 10
                while len(set(seen)) < len(backlog) + len(live) and time.time() < deadline:
                    message = await recv_json(ws)
                    if "id" in message:
                        seen.append(message["id"])
                assert seen == sorted(seen), f"out of order: {seen}"
                assert len(seen) == len(set(seen)), f"duplicates: {seen}"
                assert seen == backlog + live, (seen, backlog, live)

        async def presence_in_rooms_with_grace():
            a_url, o_url = f"{base}?token={amina['access']}", f"{base}?token={omar['access']}"
            async with websockets.connect(a_url) as a:
                await recv_type(a, "connected")
                await a.send(json.dumps({"type": "subscribe", "room": "class:5"}))
                state = await recv_type(a, "presence_state")
                assert amina["id"] in [m["user_id"] for m in state["data"]["members"]], state
                o = await websockets.connect(o_url)
                await recv_type(o, "connected")
                await o.send(json.dumps({"type": "subscribe", "room": "class:5"}))
                state = await recv_type(o, "presence_state")
                assert {amina["id"], omar["id"]} <= {m["user_id"] for m in state["data"]["members"]}, state
                diff = await recv_type(a, "presence_diff")
                if [m["user_id"] for m in diff["data"]["joins"]] == [amina["id"]]:
                    diff = await recv_type(a, "presence_diff")  # her own join comes first
                assert [m["user_id"] for m in diff["data"]["joins"]] == [omar["id"]], diff
                assert diff["data"]["leaves"] == [], diff
                # A reload: close and come back within the grace period; no leave, no join.
                await o.close()
                o = await websockets.connect(o_url)
                await recv_type(o, "connected")
                await o.send(json.dumps({"type": "subscribe", "room": "class:5"}))
                await recv_type(o, "presence_state")
                await nothing_of_type(a, "presence_diff", 2.5)
                status, _, body = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: api(port, "GET", "/api/v1/presence/rooms/class:5/", token=amina["access"]))
                assert status == 200 and {amina["id"], omar["id"]} <= {m["user_id"] for m in body["members"]}
                status, _, body = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: api(port, "GET", f"/api/v1/presence/users/{omar['id']}/", token=amina["access"]))
                assert body["online"] is True and body["last_seen"], body
                await o.close()
                diff = await recv_type(a, "presence_diff", timeout=5)
                assert [m["user_id"] for m in diff["data"]["leaves"]] == [omar["id"]], diff

        async def staff_join_any_room_outsider_cannot():
            async with websockets.connect(f"{base}?token={staff['access']}") as ws:
                await recv_type(ws, "connected")
                await ws.send(json.dumps({"type": "subscribe", "room": "khatma:99"}))
                assert (await recv_json(ws))["type"] == "presence_state"
            async with websockets.connect(f"{base}?token={outsider['access']}") as ws:
                await recv_type(ws, "connected")
                await ws.send(json.dumps({"type": "subscribe", "room": "class:5"}))
                assert (await recv_json(ws))["data"]["code"] == "forbidden"
            status, _, _ = api(port, "GET", "/api/v1/rooms/class:5/members/", token=outsider["access"])
            assert status == 403

        async def flooding_closes_4429():
            async with websockets.connect(f"{base}?token={outsider['access']}") as ws:
                await recv_type(ws, "connected")
                for _ in range(200):
                    await ws.send(json.dumps({"type": "heartbeat"}))
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                except websockets.exceptions.ConnectionClosed as closed:
                    assert closed.rcvd.code == 4429, closed.rcvd

        print("[authentication]")
        checks.run("header, ?token= and first-message auth each get `connected`", lambda: asyncio.run(three_ways_to_authenticate()))
        checks.run("bad token 401 and another user's path 403, before the upgrade", lambda: asyncio.run(refused_before_upgrade()))
        checks.run("bad first-message token closes with 4401", lambda: asyncio.run(bad_first_message_token_closes_4401()))
        print("[messages]")
        checks.run("heartbeat_ack; invalid_json, unknown_type, forbidden room; stays open", lambda: asyncio.run(heartbeat_and_errors()))
        checks.run("a notification reaches every tab within a second; mark_read reaches both", lambda: asyncio.run(live_push_and_read_state_across_tabs()))
        checks.run("`connected` carries the same unread count as REST (token in URL and in the first message)",
                   lambda: asyncio.run(connected_carries_the_exact_unread_count()))
        checks.run("48 events posted concurrently to one user: every push arrives, once", lambda: asyncio.run(concurrent_events_all_arrive()))
        checks.run("resume (URL and message) gets exactly the missed notifications in order", lambda: asyncio.run(resume_gets_exactly_the_missed()))
        checks.run("resume racing live pushes: no gap, no duplicate, in order", lambda: asyncio.run(resume_races_live_pushes()))
        checks.run("presence: state, join diff, reload within grace shows nothing, leave after grace", lambda: asyncio.run(presence_in_rooms_with_grace()))
        checks.run("staff join any room; non-members are refused", lambda: asyncio.run(staff_join_any_room_outsider_cannot()))
        checks.run("flooding gets rate_limited errors, then 4429", lambda: asyncio.run(flooding_closes_4429()))

    def silence_closes_4000():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_HEARTBEAT_INTERVAL=1, HUB_HEARTBEAT_TIMEOUT=2,
                  HUB_RATE_LIMIT_LOGIN=100000) as quick:
            user = register(quick.port, "Silent")
            ws = RawWebSocket(quick.port, path=f"/ws/notifications/?token={user['access']}")
            while True:
                fin, rsv, opcode, payload = ws.recv_frame()
                if opcode == 0x8:
                    assert int.from_bytes(payload[:2], "big") == 4000, payload
                    return

    def no_auth_message_closes_4401():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_AUTH_TIMEOUT=1) as quick:
            ws = RawWebSocket(quick.port, path="/ws/notifications/")
            started = time.time()
            fin, rsv, opcode, payload = ws.recv_frame()
            assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == 4401, (opcode, payload)
            assert time.time() - started < 5
            ws.expect_tcp_close()

    print("[timeouts]")
    checks.run("silence (no frame, pings unanswered) closes with 4000", silence_closes_4000)
    checks.run("no auth message within the auth timeout closes with 4401", no_auth_message_closes_4401)
    checks.exit()


if __name__ == "__main__":
    main()
