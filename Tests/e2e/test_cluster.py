#!/usr/bin/env python3
"""Three real hubd nodes on one PostgreSQL (the PostgreSQL bus, docs/bus.md): an event posted to
node 1 reaches sessions on nodes 2 and 3 for users, rooms and everyone; a read on node 2 reaches
tabs on nodes 1 and 3; room presence and the REST presence endpoints merge every node; the admin
disconnect and a room removal cross nodes; a SIGKILLed node's users leave within lease + grace,
a SIGTERMed node's at once; the LISTEN connections killed during a burst of 500 events lose none
and duplicate none; a PostgreSQL restart mid-run is survived without restarting a node; three
nodes drain an outbox of 300 emails exactly once; a node that must not LISTEN polls."""
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, Recorder, api, psql, register_user as register, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PG = os.path.join(HERE, "..", "..", "scripts", "pg-local.sh")
checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
LEASE_MS, GRACE_MS = 1500, 500
BASE = dict(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
            HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_PRESENCE_GRACE_MS=GRACE_MS,
            HUB_NODE_LEASE_MS=LEASE_MS, HUB_BUS_POLL_MS=500, HUB_WEBHOOK_ALLOW_HTTP=1, HUB_WEBHOOK_ALLOW_PRIVATE=1,
            HUB_WEBHOOK_RETRY_SCALE=0.001)
RUN = uuid.uuid4().hex[:6]


def node(name, **env):
    return Hubd(**BASE, HUB_NODE_ID=f"{name}-{RUN}", **env)


def ws_url(hubd):
    return f"ws://127.0.0.1:{hubd.port}/ws/notifications/"


async def connect(hubd, person):
    ws = await websockets.connect(ws_url(hubd), extra_headers={"Authorization": f"Bearer {person['access']}"},
                                  max_size=None)
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "connected", hello
    return ws


async def recv_type(ws, wanted, timeout=5, where=None):
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError(f"no {wanted} within {timeout} s" + (f" where {where}" if where else ""))
        message = json.loads(await asyncio.wait_for(ws.recv(), left))
        if message["type"] == wanted and (where is None or where(message)):
            return message


async def nothing_of_type(ws, unwanted, seconds):
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), seconds))
            assert message["type"] != unwanted, message
    except asyncio.TimeoutError:
        return


def post(hubd, recipients, title="Absence", **extra):
    status, _, body = api(hubd.port, "POST", "/api/v1/events/", dict({
        "type": "attendance_alert", "recipients": recipients,
        "data": {"student_name": title, "status": "absent"}}, **extra), api_key=KEY)
    assert status == 202, (status, body)
    return body


def student(push):
    '''The event's own data carried by a push (`data.data`).'''
    return push["data"].get("student_name")  # data is the event's payload (the stored notification: data.notification)


def joined(diff):
    return [m["user_id"] for m in diff["data"]["joins"]]


def room_count(hubd, room):
    return api(hubd.port, "GET", f"/api/v1/presence/rooms/{room}/", api_key=KEY)[2]["count"]


def add_members(hubd, room, people):
    status, _, body = api(hubd.port, "POST", f"/api/v1/rooms/{room}/members/", {"user_ids": [p["id"] for p in people]},
                          api_key=KEY)
    assert status == 201, (status, body)


def health(hubd):
    return api(hubd.port, "GET", "/api/health/")[2]


def metrics(hubd):
    with urllib.request.urlopen(f"http://127.0.0.1:{hubd.port}/metrics") as response:
        return response.read().decode()


def main():
    psql("DO $$ BEGIN IF to_regclass('deliveries') IS NOT NULL THEN UPDATE deliveries SET status = 'FAILED', "
         "last_error = 'left by an earlier suite' WHERE status IN ('PENDING', 'RETRY', 'SENDING'); END IF; END $$")
    nodes = [node("one"), node("two"), node("three")]
    n1, n2, n3 = nodes
    try:
        run_cluster_checks(n1, n2, n3)
    finally:
        for hubd in nodes:
            hubd.stop()
    if not os.environ.get("CLUSTER_ONLY"):
        run_outbox_check()
    run_polling_check()
    checks.exit()


def run_cluster_checks(n1, n2, n3):
    def health_shows_node_bus_and_peers():
        def all_listening():
            bodies = [health(h) for h in (n1, n2, n3)]
            ours = {f"one-{RUN}", f"two-{RUN}", f"three-{RUN}"}  # nodes of earlier suites may still hold a lease
            return all(b["bus"]["state"] == "listening" and ours <= {p["node"] for p in b["peers"]} for b in bodies) and bodies
        bodies = wait_for(all_listening, what="three listening nodes that see each other")
        for name, body in zip(("one", "two", "three"), bodies):
            assert body["status"] == "healthy" and body["node"] == f"{name}-{RUN}", body
            assert body["bus"]["listening"] is True and body["bus"]["lag_ms"] >= 0, body
            assert {f"one-{RUN}", f"two-{RUN}", f"three-{RUN}"} <= {p["node"] for p in body["peers"]}, body["peers"]
        text = metrics(n1)
        assert f'hub_node_info{{node="one-{RUN}"}} 1' in text and "hub_bus_messages_in_total" in text, text[-800:]
        assert "hub_bus_listening 1" in text and "hub_bus_lag_ms" in text
        # The operator console's overview lists every node: this one with its bus, the others by lease.
        status, _, overview = api(n1.port, "GET", "/api/v1/admin/overview/", api_key=KEY)
        assert status == 200, overview
        nodes = {n["id"]: n for n in overview["nodes"]}
        assert {f"one-{RUN}", f"two-{RUN}", f"three-{RUN}"} <= set(nodes), overview["nodes"]
        assert nodes[f"one-{RUN}"]["this"] is True and nodes[f"one-{RUN}"]["bus"] == "listening", nodes
        assert nodes[f"two-{RUN}"]["this"] is False and nodes[f"two-{RUN}"]["lease_left_ms"] > 0, nodes

    def events_reach_users_rooms_and_everyone_on_other_nodes():
        amina, omar = register(n1.port, "Amina"), register(n1.port, "Omar")
        room = f"class:{RUN}1"
        add_members(n1, room, [amina, omar])

        async def go():
            on2, on3 = await connect(n2, amina), await connect(n3, omar)
            announced = [0]
            try:
                # The console on node 1 shows the other nodes' sessions and version, written with
                # their leases (renewed every third of a lease).
                def peers_with_sessions():
                    body = api(n1.port, "GET", "/api/v1/admin/overview/", api_key=KEY)[2]
                    nodes = {n["id"]: n for n in body["nodes"]}
                    return all(nodes[f"{name}-{RUN}"]["sessions"] >= 1 for name in ("two", "three")) and nodes
                nodes = wait_for(peers_with_sessions, seconds=10, what="nodes 2 and 3 with a session each in node 1's console")
                version = nodes[f"one-{RUN}"]["version"]
                for name in ("two", "three"):
                    peer = nodes[f"{name}-{RUN}"]
                    assert peer["version"] == version and peer["bus_lag_ms"] >= 0, peer
                for recipients in ({"users": [amina["id"], omar["id"]]}, {"rooms": [room]}, {"all": True}):
                    title = f"T{uuid.uuid4().hex[:6]}"
                    answer = post(n1, recipients, title)
                    if recipients.get("all"):
                        announced = answer["notification_ids"]
                    for ws in (on2, on3):
                        push = await recv_type(ws, "attendance_alert", where=lambda m: student(m) == title)
                        assert push["id"] in answer["notification_ids"], (push["id"], answer, recipients)
                        assert push["data"]["notification"]["id"] == push["id"] and push["data"]["notification"]["title"], push
            finally:
                await on2.close()
                await on3.close()
                # The announcement would be in every later suite's lists (their counts assume theirs only).
                psql("DELETE FROM notifications WHERE recipient_id IS NULL AND id IN (%s)" % ",".join(map(str, announced)))
        asyncio.run(go())
        assert int(psql(f"SELECT count(*) FROM hub_bus WHERE kind = 'events' AND node = 'one-{RUN}'")) >= 1

    def read_on_node_two_updates_tabs_on_one_and_three():
        khadija = register(n1.port, "Khadija")

        async def go():
            tabs = [await connect(h, khadija) for h in (n1, n2, n3)]
            try:
                answer = post(n2, {"users": [khadija["id"]]})
                nid = answer["notification_ids"][0]
                for tab in tabs:
                    await recv_type(tab, "attendance_alert")
                status, _, _ = api(n2.port, "POST", f"/api/v1/notifications/{nid}/read/", {}, token=khadija["access"])
                assert status == 200, status
                unread = api(n1.port, "GET", "/api/v1/notifications/unread-count/", token=khadija["access"])[2]["unread_count"]
                for tab in tabs:
                    read = await recv_type(tab, "notification_read")
                    assert read["data"]["ids"] == [nid] and read["data"]["unread_count"] == unread, (read, unread)
                # A read over the WebSocket on node 3 reaches node 1 too.
                second = post(n1, {"users": [khadija["id"]]})["notification_ids"][0]
                for tab in tabs:
                    await recv_type(tab, "attendance_alert")
                await tabs[2].send(json.dumps({"type": "mark_read", "id": second}))
                for tab in tabs:
                    read = await recv_type(tab, "notification_read")
                    assert read["data"]["ids"] == [second], read
            finally:
                for tab in tabs:
                    await tab.close()
        asyncio.run(go())

    def presence_webhooks_once_per_cluster():
        receiver = Recorder()
        status, _, endpoint = api(n1.port, "POST", "/api/v1/webhooks/endpoints/", {
            "url": f"http://127.0.0.1:{receiver.port}/presence", "event_types": ["presence.*"]}, api_key=KEY)
        assert status == 201, endpoint
        person = register(n1.port, "Twotabs")

        def seen(kind):
            return [r for r in receiver.matching(lambda r: r["path"] == "/presence")
                    if json.loads(r["body"])["type"] == kind and json.loads(r["body"])["data"]["user_id"] == person["id"]]

        async def go():
            on_one = await connect(n1, person)
            on_two = await connect(n2, person)
            await asyncio.to_thread(wait_for, lambda: seen("presence.online"), 10, "presence.online")
            await on_one.close()
            await asyncio.sleep(GRACE_MS / 1000 + 1.5)
            assert seen("presence.offline") == [], "still online on node 2: no offline"
            await on_two.close()
            await asyncio.to_thread(wait_for, lambda: seen("presence.offline"), 10, "presence.offline")
            await asyncio.sleep(1.5)
        asyncio.run(go())
        assert len(seen("presence.online")) == 1, "online once for the cluster, not once per node"
        assert len(seen("presence.offline")) == 1, "offline once for the cluster"

    def room_presence_merges_every_node():
        a, b, c = register(n1.port, "Alpha"), register(n1.port, "Beta"), register(n1.port, "Gamma")
        room = f"halaka:{RUN}2"
        add_members(n1, room, [a, b, c])

        async def go():
            wa = await connect(n1, a)
            await wa.send(json.dumps({"type": "subscribe", "room": room}))
            state = await recv_type(wa, "presence_state")
            assert [m["user_id"] for m in state["data"]["members"]] == [a["id"]], state
            # Presence crosses nodes through the bus, a few milliseconds later.
            wait_for(lambda: room_count(n2, room) == 1, what="Alpha seen on node 2")
            wb = await connect(n2, b)
            await wb.send(json.dumps({"type": "subscribe", "room": room}))
            state = await recv_type(wb, "presence_state")
            assert [m["user_id"] for m in state["data"]["members"]] == sorted([a["id"], b["id"]]), state
            diff = await recv_type(wa, "presence_diff", where=lambda m: m["data"]["joins"] != [] and m["data"]["joins"][0]["user_id"] != a["id"])
            assert [m["user_id"] for m in diff["data"]["joins"]] == [b["id"]] and diff["data"]["leaves"] == [], diff
            assert diff["data"]["joins"][0]["name"] == "Beta", diff
            wait_for(lambda: room_count(n3, room) == 2, what="Alpha and Beta seen on node 3")
            wc = await connect(n3, c)
            await wc.send(json.dumps({"type": "subscribe", "room": room}))
            state = await recv_type(wc, "presence_state")
            assert [m["user_id"] for m in state["data"]["members"]] == sorted([a["id"], b["id"], c["id"]]), state
            for ws in (wa, wb):
                diff = await recv_type(ws, "presence_diff", where=lambda m: c["id"] in joined(m))
                assert joined(diff) == [c["id"]], diff
            # REST on any node answers for the cluster.
            for hubd in (n1, n2, n3):
                status, _, body = api(hubd.port, "GET", f"/api/v1/presence/rooms/{room}/", api_key=KEY)
                assert status == 200 and body["count"] == 3, (hubd.port, body)
                status, _, body = api(hubd.port, "POST", "/api/v1/presence/query/", {"user_ids": [a["id"], b["id"], c["id"]]},
                                      api_key=KEY)
                assert [r["online"] for r in body["results"]] == [True, True, True], body
            # A second tab of Beta on node 3: no join; Beta's node-2 session closes: no leave.
            wb3 = await connect(n3, b)
            await wb3.send(json.dumps({"type": "subscribe", "room": room}))
            await recv_type(wb3, "presence_state")
            await wb.close()
            await nothing_of_type(wa, "presence_diff", (GRACE_MS + 1200) / 1000)
            # Gamma leaves: announced on nodes 1 and 3 (Beta's tab) after the grace.
            started = time.time()
            await wc.close()
            for ws in (wa, wb3):
                diff = await recv_type(ws, "presence_diff", timeout=5)
                assert [m["user_id"] for m in diff["data"]["leaves"]] == [c["id"]], diff
            assert time.time() - started >= GRACE_MS / 1000 - 0.1
            wait_for(lambda: api(n2.port, "GET", f"/api/v1/presence/users/{c['id']}/", api_key=KEY)[2]["online"] is False,
                     what="Gamma offline for the cluster")
            await wa.close()
            await wb3.close()
        asyncio.run(go())
        # Exactly one node saw each user's cluster-wide transition: counts back at zero.
        assert psql(f"SELECT nodes FROM hub_presence_users WHERE user_id = {c['id']}") == "0"

    def admin_disconnect_and_room_removal_cross_nodes():
        d = register(n1.port, "Delta")
        room = f"course:{RUN}3"
        add_members(n1, room, [d])

        async def go():
            ws = await connect(n3, d)
            await ws.send(json.dumps({"type": "subscribe", "room": room}))
            await recv_type(ws, "presence_state")
            status, _, _ = api(n1.port, "DELETE", f"/api/v1/rooms/{room}/members/{d['id']}/", api_key=KEY)
            assert status == 204
            gone = await recv_type(ws, "unsubscribed")
            assert gone["data"] == {"room": room, "reason": "removed"}, gone
            status, _, _ = api(n2.port, "POST", f"/api/v1/admin/users/{d['id']}/disconnect/", {}, api_key=KEY)
            assert status == 202
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd.code == 1012, closed
        asyncio.run(go())

    def sigkill_leaves_within_lease_and_grace_sigterm_at_once():
        watcher, killed, stopped = register(n1.port, "Watcher"), register(n1.port, "Killed"), register(n1.port, "Stopped")
        room = f"group:{RUN}4"
        add_members(n1, room, [watcher, killed, stopped])
        victim = node("victim")
        polite = node("polite")
        try:
            async def go():
                ww = await connect(n1, watcher)
                await ww.send(json.dumps({"type": "subscribe", "room": room}))
                await recv_type(ww, "presence_state")
                wk = await connect(victim, killed)
                await wk.send(json.dumps({"type": "subscribe", "room": room}))
                await recv_type(wk, "presence_state")
                ws = await connect(polite, stopped)
                await ws.send(json.dumps({"type": "subscribe", "room": room}))
                await recv_type(ws, "presence_state")
                seen = set()
                while seen != {killed["id"], stopped["id"]}:
                    diff = await recv_type(ww, "presence_diff", timeout=10)
                    seen |= set(joined(diff)) - {watcher["id"]}
                assert api(n3.port, "GET", f"/api/v1/presence/users/{killed['id']}/", api_key=KEY)[2]["online"] is True
                # SIGTERM: the leave comes at once (well before a lease).
                started = time.time()
                polite.process.send_signal(signal.SIGTERM)
                diff = await recv_type(ww, "presence_diff", timeout=5)
                assert [m["user_id"] for m in diff["data"]["leaves"]] == [stopped["id"]], diff
                polite_took = time.time() - started
                assert polite_took < LEASE_MS / 1000, f"SIGTERM leave took {polite_took:.2f} s"
                # SIGKILL: within lease + grace (+ one lease tick of the detecting node, + slack).
                started = time.time()
                victim.process.send_signal(signal.SIGKILL)
                victim.process.wait()
                diff = await recv_type(ww, "presence_diff", timeout=10)
                took = time.time() - started
                assert [m["user_id"] for m in diff["data"]["leaves"]] == [killed["id"]], diff
                bound = (LEASE_MS + GRACE_MS + LEASE_MS / 3) / 1000 + 1.0
                assert took <= bound, f"SIGKILL leave took {took:.2f} s (bound {bound:.2f})"
                print(f"        SIGTERM leave after {polite_took * 1000:.0f} ms, SIGKILL leave after {took * 1000:.0f} ms "
                      f"(lease {LEASE_MS} ms, grace {GRACE_MS} ms)")
                # Every node has read the lease's end by now or within milliseconds.
                for hubd in (n1, n2, n3):
                    wait_for(lambda: api(hubd.port, "GET", f"/api/v1/presence/users/{killed['id']}/", api_key=KEY)[2][
                        "online"] is False, seconds=2, what=f"the killed node's user offline on {hubd.port}")
                assert psql(f"SELECT count(*) FROM hub_nodes WHERE node_id = 'victim-{RUN}'") == "0"
                assert psql(f"SELECT nodes FROM hub_presence_users WHERE user_id = {killed['id']}") == "0"
                await ww.close()
            asyncio.run(go())
        finally:
            victim.stop()
            polite.stop()

    def listen_connections_killed_during_burst_lose_nothing():
        people = [register(n1.port, f"Burst{i}") for i in range(10)]

        async def go():
            sockets = [await connect(n2 if i % 2 else n3, p) for i, p in enumerate(people)]
            received = {p["id"]: [] for p in people}

            async def collect(ws, person):
                try:
                    while True:
                        message = json.loads(await ws.recv())
                        if message["type"] == "attendance_alert":
                            received[person["id"]].append(message["id"])
                except websockets.ConnectionClosed:
                    pass
            tasks = [asyncio.create_task(collect(ws, p)) for ws, p in zip(sockets, people)]
            posted = {p["id"]: [] for p in people}
            stop_killing = threading.Event()
            killed = []

            def killer():
                while not stop_killing.is_set():
                    out = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               f"WHERE application_name IN ('hubd-bus-listen two-{RUN}', 'hubd-bus-listen three-{RUN}')")
                    killed.append(int(out or 0))
                    time.sleep(0.3)

            def burst():
                from concurrent.futures import ThreadPoolExecutor

                def one(i):
                    person = people[i % len(people)]
                    answer = post(n1, {"users": [person["id"]]}, f"B{i}")
                    return person["id"], answer["notification_ids"][0]
                with ThreadPoolExecutor(max_workers=8) as pool:
                    for user_id, nid in pool.map(one, range(500)):
                        posted[user_id].append(nid)
            thread = threading.Thread(target=killer)
            thread.start()
            try:
                await asyncio.get_running_loop().run_in_executor(None, burst)
            finally:
                stop_killing.set()
                thread.join()
            deadline = time.time() + 20
            while time.time() < deadline and sum(map(len, received.values())) < 500:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            for ws in sockets:
                await ws.close()
            for task in tasks:
                task.cancel()
            assert sum(killed) >= 2, f"LISTEN connections killed: {killed}"
            for person in people:
                got, want = received[person["id"]], sorted(posted[person["id"]])
                assert len(got) == len(set(got)), f"duplicates for {person['id']}"
                assert sorted(got) == want, (person["id"], len(got), len(want))
                assert got == sorted(got), "per-user order"
            print(f"        500 events, LISTEN connections terminated {sum(killed)} times: all received once, in order")
        asyncio.run(go())

    def postgres_restart_mid_run_recovers():
        people = [register(n1.port, f"Restart{i}") for i in range(3)]

        async def go():
            sockets = [await connect(h, p) for h, p in zip((n1, n2, n3), people)]
            ids = {p["id"]: [] for p in people}
            for i in range(30):
                for p in people:
                    ids[p["id"]] += post(n1, {"users": [p["id"]]}, f"R{i}")["notification_ids"]
            subprocess.run([PG, "restart"], check=True)
            # Every node comes back by itself: posts succeed again, the bus reconnects.
            wait_for(lambda: api(n1.port, "POST", "/api/v1/events/", {
                "type": "attendance_alert", "recipients": {"users": [people[0]["id"]]},
                "data": {"student_name": "probe", "status": "absent"}}, api_key=KEY)[0] == 202, seconds=30,
                what="events accepted after the restart")
            ids[people[0]["id"]] += [int(psql(f"SELECT max(id) FROM notifications WHERE recipient_id = {people[0]['id']}"))]
            for i in range(30):
                for p in people:
                    ids[p["id"]] += post(n1, {"users": [p["id"]]}, f"S{i}")["notification_ids"]
            wait_for(lambda: all(health(h)["bus"]["state"] == "listening" for h in (n1, n2, n3)), what="listening again")
            for ws, p in zip(sockets, people):
                got = []
                deadline = time.time() + 20
                while sorted(set(got)) != sorted(ids[p["id"]]) and time.time() < deadline:
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
                    except (asyncio.TimeoutError, websockets.ConnectionClosed):
                        break
                    if message["type"] == "attendance_alert":
                        got.append(message["id"])
                assert sorted(got) == sorted(ids[p["id"]]), (p["id"], len(got), len(ids[p["id"]]))
                assert len(got) == len(set(got))
                await ws.close()
        asyncio.run(go())

    only = os.environ.get("CLUSTER_ONLY")
    if only:
        checks.run = (lambda run: lambda name, fn: run(name, fn) if only in name else None)(checks.run)
    checks.run("health shows the node, the bus (listening, lag) and the peers; /metrics the bus counters",
               health_shows_node_bus_and_peers)
    checks.run("presence webhooks: online and offline once for the cluster, a tab left on another node keeps the user online",
               presence_webhooks_once_per_cluster)
    checks.run("an event posted to node 1 reaches sessions on nodes 2 and 3: users, rooms, everyone",
               events_reach_users_rooms_and_everyone_on_other_nodes)
    checks.run("a read on node 2 updates tabs on nodes 1 and 3 (and a read on 3 reaches 1)",
               read_on_node_two_updates_tabs_on_one_and_three)
    checks.run("room presence merges every node (state, diffs, REST, a second tab, grace)", room_presence_merges_every_node)
    checks.run("admin disconnect and room removal cross nodes", admin_disconnect_and_room_removal_cross_nodes)
    checks.run("SIGKILL: leaves within lease + grace on the other nodes; SIGTERM: at once",
               sigkill_leaves_within_lease_and_grace_sigterm_at_once)
    checks.run("LISTEN connections terminated during a burst of 500 events: none lost, none twice, in order",
               listen_connections_killed_during_burst_lose_nothing)
    if os.environ.get("HUB_E2E_PG_CONTROL") != "external":
        checks.run("PostgreSQL restarted mid-run: every node recovers by itself, nothing committed is lost",
                   postgres_restart_mid_run_recovers)


def run_outbox_check():
    from aiosmtpd.controller import Controller
    from test_drivers import Mailbox, free_port
    import email

    def three_nodes_send_300_emails_exactly_once():
        box = Mailbox()
        smtp = Controller(box, hostname="127.0.0.1", port=free_port())
        smtp.start()
        env = dict(HUB_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}?starttls=never", HUB_SMTP_FROM="hub@school.ma")
        nodes = [node(f"mail{i}", **env) for i in range(3)]
        try:
            people = [register(nodes[0].port, f"Mail{i}", prefs={"email_enabled": True}) for i in range(30)]
            for i in range(10):
                post(nodes[i % 3], {"users": [p["id"] for p in people]}, f"M{i}")
            wait_for(lambda: len(box.messages) >= 300, seconds=90, what="300 emails")
            time.sleep(2)
            ids = [email.message_from_bytes(m[1])["Message-ID"] for m in box.messages]
            assert len(box.messages) == 300 and len(set(ids)) == 300, (len(box.messages), len(set(ids)))
            assert [len(box.to(p["email"])) for p in people] == [10] * 30
        finally:
            for hubd in nodes:
                hubd.stop()
            smtp.stop()
    checks.run("three nodes drain an outbox of 300 emails exactly once", three_nodes_send_300_emails_exactly_once)


def run_polling_check():
    def a_node_that_must_not_listen_polls_and_says_so():
        with node("poller", HUB_BUS_LISTEN=0) as poller, node("speaker") as speaker:
            body = wait_for(lambda: (b := health(poller)) and b["bus"]["state"] == "polling" and b, what="polling state")
            assert body["bus"]["listening"] is False, body
            person = register(speaker.port, "Polled")

            async def go():
                ws = await connect(poller, person)
                title = "P" + uuid.uuid4().hex[:6]
                post(speaker, {"users": [person["id"]]}, title)
                push = await recv_type(ws, "attendance_alert", timeout=5)
                assert student(push) == title
                await ws.close()
            asyncio.run(go())
            said = [line for line in poller.lines if "LISTEN" in line and "polling" in line]
            assert len(said) == 1, said
    checks.run("HUB_BUS_LISTEN=0: the node polls, health says polling, pushes still arrive",
               a_node_that_must_not_listen_polls_and_says_so)


if __name__ == "__main__":
    main()
