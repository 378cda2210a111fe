#!/usr/bin/env python3
"""Outbound webhooks through hubd and a real PostgreSQL, judged by the independent
`standardwebhooks` package (PyPI): every message a local receiver gets must verify with the secret
the hub gave. Also: the endpoints API and its per-field 400s, events without recipients,
wildcards, retries at the shortened schedule with a stable webhook-id, 410, replay, recover, the
delivery log, rotation with two signatures, the hub's own events (notification.read over the
socket, notification.delivered/failed, user.created, presence.online/offline after the grace),
disabling after days of failures, SSRF refusals at registration and at connect time, and nothing
lost while the receiver is down for a minute."""
import base64
import http.server
import json
import os
import sys
import threading
import time
import uuid

import websocket
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, psql, register_user, wait_for  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
GRACE_MS = 1500
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_DELIVERY_TIMEOUT": 2,
        "HUB_WEBHOOK_ALLOW_HTTP": "1", "HUB_WEBHOOK_RETRY_SCALE": "0.001", "HUB_PRESENCE_GRACE_MS": GRACE_MS,
        "HUB_OUTBOX_MAX_ATTEMPTS": 2, "HUB_WEBHOOK_ALLOW_PRIVATE": "1"}


class Receiver:
    """A local webhook receiver: records every POST (path, headers, body, time) and answers from a
    script per path of (status, body), then 200. `stop` and `start` keep the port."""

    def __init__(self, port=0):
        self.requests = []
        self.scripts = {}
        self.lock = threading.Lock()
        self.port = port
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body, "time": time.time()})
                    script = receiver.scripts.get(self.path) or []
                    status, answer = script.pop(0) if script else (200, b"ok")
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


def endpoint(port, url, types, **extra):
    status, _, answer = api(port, "POST", "/api/v1/webhooks/endpoints/", {"url": url, "event_types": types, **extra},
                            api_key=KEY)
    assert status == 201, (status, answer)
    return answer


def verified(secret, request):
    """The message as `standardwebhooks` reads it after verifying its signature."""
    return Webhook(secret).verify(request["body"].decode(), request["headers"])


def event(port, type_, data=None, recipients=None, **extra):
    body = {"type": type_, "data": data or {}, **extra}
    if recipients is not None:
        body["recipients"] = recipients
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, (status, answer)
    return answer


def log(port, endpoint_id, query=""):
    status, _, answer = api(port, "GET", f"/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/{query}", api_key=KEY)
    assert status == 200, (status, answer)
    return answer


def main():
    receiver = Receiver()
    hubd = Hubd(**BASE, HUB_SMS_URL=receiver.url("/sms"))
    port = hubd.port

    def endpoints_api_and_every_bad_input():
        created = endpoint(port, receiver.url("/crud"), ["enrollment.created", "notification.*"], description="LMS")
        secret = created["secret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32, secret
        assert created["event_types"] == ["enrollment.created", "notification.*"] and created["disabled"] is False
        eid = created["id"]
        status, _, detail = api(port, "GET", f"/api/v1/webhooks/endpoints/{eid}/", api_key=KEY)
        assert status == 200 and "secret" not in detail and detail["description"] == "LMS", detail
        status, _, listed = api(port, "GET", "/api/v1/webhooks/endpoints/", api_key=KEY)
        assert status == 200 and any(e["id"] == eid for e in listed["results"]) and all("secret" not in e for e in listed["results"])
        status, _, patched = api(port, "PATCH", f"/api/v1/webhooks/endpoints/{eid}/", {"event_types": ["*"], "disabled": True},
                                 api_key=KEY)
        assert status == 200 and patched["event_types"] == ["*"] and patched["disabled"] and patched["disabled_reason"], patched
        status, _, patched = api(port, "PATCH", f"/api/v1/webhooks/endpoints/{eid}/", {"disabled": False}, api_key=KEY)
        assert status == 200 and not patched["disabled"] and patched["disabled_reason"] is None, patched
        bad = [
            ({}, {"url", "event_types"}),
            ({"url": 5, "event_types": "x"}, {"url", "event_types"}),
            ({"url": "not a url", "event_types": []}, {"url", "event_types"}),
            ({"url": "ftp://example.com/x", "event_types": ["a"]}, {"url"}),
            ({"url": "http://user:pw@example.com/x", "event_types": ["a"]}, {"url"}),
            ({"url": "https://example.com/" + "x" * 2100, "event_types": ["a"]}, {"url"}),
            ({"url": receiver.url("/x"), "event_types": ["a b", "", 7, "notification*", "a.*.b"]},
             {"event_types[0]", "event_types[1]", "event_types[2]", "event_types[3]", "event_types[4]"}),
            ({"url": receiver.url("/x"), "event_types": ["t"] * 101}, {"event_types"}),
            ({"url": receiver.url("/x"), "event_types": ["a"], "description": 3, "disabled": "yes"}, {"description", "disabled"}),
        ]
        for body, fields in bad:
            status, _, answer = api(port, "POST", "/api/v1/webhooks/endpoints/", body, api_key=KEY)
            assert status == 400 and set(answer["details"]) == fields, (body, status, answer)
            assert answer["error_code"] == "VALIDATION_ERROR", answer
        status, _, answer = api(port, "PATCH", f"/api/v1/webhooks/endpoints/{eid}/", {"url": "gopher://x"}, api_key=KEY)
        assert status == 400 and set(answer["details"]) == {"url"}, answer
        status, _, answer = api(port, "POST", f"/api/v1/webhooks/endpoints/{eid}/recover/", {"since": "yesterday"}, api_key=KEY)
        assert status == 400 and set(answer["details"]) == {"since"}, answer
        status, _, answer = api(port, "GET", f"/api/v1/webhooks/endpoints/{eid}/deliveries/?page_size=500&status=LOST",
                                api_key=KEY)
        assert status == 400 and set(answer["details"]) == {"page_size", "status"}, answer
        student = register_user(port, "Nadia")
        assert api(port, "GET", "/api/v1/webhooks/endpoints/", token=student["token"])[0] == 403
        assert api(port, "GET", "/api/v1/webhooks/endpoints/")[0] == 401
        assert api(port, "DELETE", f"/api/v1/webhooks/endpoints/{eid}/", api_key=KEY)[0] == 204
        for method, path in [("GET", f"/api/v1/webhooks/endpoints/{eid}/"), ("DELETE", f"/api/v1/webhooks/endpoints/{eid}/"),
                             ("POST", f"/api/v1/webhooks/endpoints/{eid}/test/"), ("POST", "/api/v1/webhooks/messages/999999999/replay/"),
                             ("GET", f"/api/v1/webhooks/endpoints/{eid}/deliveries/")]:
            assert api(port, method, path, {} if method == "POST" else None, api_key=KEY)[0] == 404, (method, path)

    def event_without_recipients_reaches_only_subscribers():
        wanted = endpoint(port, receiver.url("/lms"), ["enrollment.created"])
        other = endpoint(port, receiver.url("/payments"), ["payment.completed"])
        answer = event(port, "enrollment.created", {"course_id": 7, "student": "Omar"}, idempotency_key=uuid.uuid4().hex)
        assert answer["notification_ids"] == [], answer
        request = wait_for(lambda: receiver.to("/lms"), what="the enrollment webhook")[0]
        message = verified(wanted["secret"], request)
        assert message["type"] == "enrollment.created" and message["data"] == {"course_id": 7, "student": "Omar"}, message
        assert message["timestamp"].endswith("Z")
        headers = request["headers"]
        assert headers["content-type"] == "application/json" and headers["user-agent"].startswith("hubd/"), headers
        assert headers["webhook-id"].startswith("msg_") and abs(int(headers["webhook-timestamp"]) - time.time()) < 30
        try:
            Webhook(other["secret"]).verify(request["body"].decode(), headers)
            raise AssertionError("verified with another endpoint's secret")
        except WebhookVerificationError:
            pass
        time.sleep(1)
        assert receiver.to("/payments") == [] and len(receiver.to("/lms")) == 1
        entry = wait_for(lambda: [m for m in log(port, wanted["id"])["results"] if m["status"] == "DELIVERED"], what="log")[0]
        assert entry["webhook_id"] == headers["webhook-id"] and entry["attempts"][0]["status_code"] == 200, entry
        assert log(port, other["id"])["count"] == 0

    def retries_keep_the_webhook_id_on_the_short_schedule():
        receiver.scripts["/flaky"] = [(500, b"boom " * 400), (500, b"again")]
        hook = endpoint(port, receiver.url("/flaky"), ["grade.posted"])
        event(port, "grade.posted", {"grade": "A"})
        requests = wait_for(lambda: len(receiver.to("/flaky")) >= 3 and receiver.to("/flaky"), what="three attempts")
        time.sleep(1)
        requests = receiver.to("/flaky")
        assert len(requests) == 3, len(requests)
        assert len({r["headers"]["webhook-id"] for r in requests}) == 1
        for request in requests:
            verified(hook["secret"], request)
        gaps = [b["time"] - a["time"] for a, b in zip(requests, requests[1:])]
        # Scaled by 0.001: 5 ms then 300 ms (±10%), plus at most one 250-ms poll each.
        assert gaps[0] < 1.0 and 0.27 <= gaps[1] < 1.5, gaps
        entry = wait_for(lambda: [m for m in log(port, hook["id"])["results"] if m["status"] == "DELIVERED"], what="log")[0]
        attempts = entry["attempts"]
        assert [a["status_code"] for a in attempts] == [500, 500, 200] and entry["attempt_count"] == 3, entry
        assert len(attempts[0]["response"]) == 1024 and attempts[0]["next_retry_at"] and attempts[2]["next_retry_at"] is None
        assert all(isinstance(a["duration_ms"], int) for a in attempts) and entry["payload"]["data"] == {"grade": "A"}

    def gone_410_disables_the_endpoint():
        receiver.scripts["/gone"] = [(410, b"")]
        hook = endpoint(port, receiver.url("/gone"), ["course.published"])
        event(port, "course.published", {"course_id": 1})
        wait_for(lambda: api(port, "GET", f"/api/v1/webhooks/endpoints/{hook['id']}/", api_key=KEY)[2]["disabled"],
                 what="the endpoint disabled")
        detail = api(port, "GET", f"/api/v1/webhooks/endpoints/{hook['id']}/", api_key=KEY)[2]
        assert "410" in detail["disabled_reason"], detail
        event(port, "course.published", {"course_id": 2})
        time.sleep(1)
        assert len(receiver.to("/gone")) == 1 and log(port, hook["id"])["count"] == 1
        status, _, answer = api(port, "POST", f"/api/v1/webhooks/endpoints/{hook['id']}/test/", {}, api_key=KEY)
        assert status == 409 and answer["error_code"] == "ENDPOINT_DISABLED", answer

    def replay_and_test_and_recover_resend_with_the_same_id():
        hook = endpoint(port, receiver.url("/replay"), ["payment.completed"])
        event(port, "payment.completed", {"amount": 120})
        first = wait_for(lambda: receiver.to("/replay"), what="the first send")[0]
        message = wait_for(lambda: [m for m in log(port, hook["id"])["results"] if m["status"] == "DELIVERED"], what="log")[0]
        status, _, answer = api(port, "POST", f"/api/v1/webhooks/messages/{message['id']}/replay/", {}, api_key=KEY)
        assert status == 202 and answer["webhook_id"] == first["headers"]["webhook-id"], answer
        again = wait_for(lambda: len(receiver.to("/replay")) >= 2 and receiver.to("/replay"), what="the replay")[1]
        assert again["headers"]["webhook-id"] == first["headers"]["webhook-id"] and again["body"] == first["body"]
        verified(hook["secret"], again)
        status, _, answer = api(port, "POST", f"/api/v1/webhooks/endpoints/{hook['id']}/test/", {}, api_key=KEY)
        assert status == 202, answer
        test = wait_for(lambda: [r for r in receiver.to("/replay") if r["headers"]["webhook-id"] == answer["webhook_id"]],
                        what="the test message")[0]
        assert verified(hook["secret"], test)["type"] == "webhook.test"
        # A message that failed for good, re-sent by recover {since}.
        psql(f"UPDATE deliveries SET status = 'FAILED' WHERE endpoint_id = {hook['id']} AND event_type = 'payment.completed'")
        status, _, answer = api(port, "POST", f"/api/v1/webhooks/endpoints/{hook['id']}/recover/",
                                {"since": "2020-01-01T00:00:00Z"}, api_key=KEY)
        assert status == 202 and answer["queued"] == 1, answer
        third = wait_for(lambda: [r for r in receiver.to("/replay") if r["headers"]["webhook-id"] == first["headers"]["webhook-id"]]
                         [2:], what="the recovered message")[0]
        verified(hook["secret"], third)

    def rotation_signs_twice_during_the_overlap():
        hook = endpoint(port, receiver.url("/rotate"), ["lesson.*"])
        status, _, rotated = api(port, "POST", f"/api/v1/webhooks/endpoints/{hook['id']}/rotate-secret/", {}, api_key=KEY)
        assert status == 200 and rotated["secret"] != hook["secret"] and rotated["previous_secret_expires_at"], rotated
        event(port, "lesson.cancelled", {"lesson": 3})
        request = wait_for(lambda: receiver.to("/rotate"), what="the rotated message")[0]
        signatures = request["headers"]["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures), signatures
        for signature, secret in zip(signatures, [rotated["secret"], hook["secret"]]):
            verified(secret, dict(request, headers=dict(request["headers"], **{"webhook-signature": signature})))
        for signature, secret in zip(signatures, [hook["secret"], rotated["secret"]]):
            try:
                verified(secret, dict(request, headers=dict(request["headers"], **{"webhook-signature": signature})))
                raise AssertionError("a signature verified with the other secret")
            except WebhookVerificationError:
                pass
        psql(f"UPDATE webhook_endpoints SET previous_secret_until = now() - interval '1 second' WHERE id = {hook['id']}")
        event(port, "lesson.cancelled", {"lesson": 4})
        later = wait_for(lambda: len(receiver.to("/rotate")) >= 2 and receiver.to("/rotate"), what="after the overlap")[1]
        assert len(later["headers"]["webhook-signature"].split(" ")) == 1
        verified(rotated["secret"], later)

    def hub_events_read_delivered_failed_user_created():
        hook = endpoint(port, receiver.url("/hub"), ["notification.*", "user.created"])
        person = register_user(port, "Amina", prefs={"sms_enabled": True, "phone_number": "+212600000001"})
        created = wait_for(lambda: [verified(hook["secret"], r) for r in receiver.to("/hub")
                                    if json.loads(r["body"])["type"] == "user.created"
                                    and json.loads(r["body"])["data"]["user_id"] == person["id"]], what="user.created")[0]
        assert created["data"]["email"] == person["email"], created
        receiver.scripts["/sms"] = [(200, b"{}"), (400, b"bad number")]
        ids = [event(port, "custom_note", {"n": n}, recipients={"users": [person["id"]]}, title="Note",
                     message="Hello")["notification_ids"][0] for n in range(2)]

        def of_type(kind):
            return [verified(hook["secret"], r) for r in receiver.to("/hub") if json.loads(r["body"])["type"] == kind]

        delivered = wait_for(lambda: of_type("notification.delivered"), what="notification.delivered")[0]
        failed = wait_for(lambda: of_type("notification.failed"), what="notification.failed")[0]
        assert delivered["data"]["channel"] == "SMS" and delivered["data"]["notification_id"] in ids, delivered
        assert failed["data"]["channel"] == "SMS" and "400" in failed["data"]["reason"], failed
        assert {delivered["data"]["notification_id"], failed["data"]["notification_id"]} == set(ids)
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws/notifications/?token={person['token']}", timeout=10)
        try:
            assert json.loads(ws.recv())["type"] == "connected"
            ws.send(json.dumps({"type": "mark_read", "id": ids[0]}))
            read = wait_for(lambda: of_type("notification.read"), what="notification.read")
            assert len(read) == 1 and read[0]["data"]["notification_id"] == ids[0], read
            assert read[0]["data"]["user_id"] == person["id"] and read[0]["data"]["notification_type"] == "custom_note"
        finally:
            ws.close()

    def presence_offline_once_after_the_grace():
        hook = endpoint(port, receiver.url("/presence"), ["presence.*"])
        person = register_user(port, "Karim")

        def mine():
            return [verified(hook["secret"], r) for r in receiver.to("/presence")
                    if json.loads(r["body"])["data"]["user_id"] == person["id"]]

        url = f"ws://127.0.0.1:{port}/ws/notifications/?token={person['token']}"
        tabs = [websocket.create_connection(url, timeout=10) for _ in range(2)]
        for tab in tabs:
            assert json.loads(tab.recv())["type"] == "connected"
        online = wait_for(mine, what="presence.online")
        assert [m["type"] for m in online] == ["presence.online"], online
        tabs[0].close()
        time.sleep(GRACE_MS / 1000 + 1)
        assert [m["type"] for m in mine()] == ["presence.online"], "one tab is still open"
        tabs[1].close()
        closed = time.time()
        # A reload within the grace is no transition.
        reload = websocket.create_connection(url, timeout=10)
        assert json.loads(reload.recv())["type"] == "connected"
        reload.close()
        reloaded = time.time()
        offline = wait_for(lambda: [m for m in mine() if m["type"] == "presence.offline"], what="presence.offline")
        arrived = time.time()
        assert arrived - reloaded >= GRACE_MS / 1000 - 0.3 and arrived - closed < GRACE_MS / 1000 + 3, (closed, arrived)
        time.sleep(GRACE_MS / 1000 + 1)
        assert [m["type"] for m in mine()] == ["presence.online", "presence.offline"], mine()
        assert offline[0]["data"]["status"] == "offline"

    def failing_for_five_days_disables():
        receiver.scripts["/dying"] = [(503, b"")] * 3
        hook = endpoint(port, receiver.url("/dying"), ["attendance.marked"])
        psql(f"UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = {hook['id']}")
        event(port, "attendance.marked", {"student": 4})
        wait_for(lambda: api(port, "GET", f"/api/v1/webhooks/endpoints/{hook['id']}/", api_key=KEY)[2]["disabled"],
                 what="the endpoint disabled after 5 days of failures")
        detail = api(port, "GET", f"/api/v1/webhooks/endpoints/{hook['id']}/", api_key=KEY)[2]
        assert detail["disabled_reason"].startswith("Every delivery failed since"), detail

    def nothing_lost_while_the_receiver_is_down_for_a_minute():
        down = Receiver()
        hook = endpoint(port, down.url("/down"), ["homework.assigned"])
        down.stop()
        for n in range(5):
            event(port, "homework.assigned", {"n": n})
        stopped = time.time()
        first_ids = wait_for(lambda: (lambda rows: len(rows) == 5 and all(r["attempts"] for r in rows) and rows)(
            log(port, hook["id"])["results"]), what="first attempts refused")
        assert all(r["attempts"][0]["status_code"] is None and r["attempts"][0]["error"] for r in first_ids), first_ids
        ids = {r["webhook_id"] for r in first_ids}
        time.sleep(max(0, 60 - (time.time() - stopped)))
        down.start()
        got = wait_for(lambda: len(down.to("/down")) >= 5 and down.to("/down"), seconds=60, what="every message after the outage")
        assert {r["headers"]["webhook-id"] for r in got} == ids
        assert sorted(verified(hook["secret"], r)["data"]["n"] for r in got) == [0, 1, 2, 3, 4]
        down.stop()

    def ssrf_refused_at_registration_and_at_connect():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_WEBHOOK_ALLOW_HTTP="1",
                  HUB_WEBHOOK_RETRY_SCALE="0.001") as strict:
            for url in ["http://127.0.0.1/hook", "http://[::1]/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                        "http://2130706433/", "http://0177.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://192.168.1.5/",
                        "http://[fe80::1]/", "http://224.0.0.1/", "http://0.0.0.0/", f"http://localhost:{receiver.port}/",
                        "http://[fd00::1]/"]:
                status, _, answer = api(strict.port, "POST", "/api/v1/webhooks/endpoints/", {"url": url, "event_types": ["a"]},
                                        api_key=KEY)
                assert status == 400 and list(answer["details"]) == ["url"], (url, status, answer)
                assert "public" in answer["details"]["url"][0], answer
            # Rebinding: the name was public when registered (written here as if), resolves to 127.0.0.1 now.
            eid = psql(f"""INSERT INTO webhook_endpoints (url, event_types, secret)
                VALUES ('http://localhost:{receiver.port}/rebind', '{{rebind.test}}', 'whsec_{base64.b64encode(os.urandom(32)).decode()}')
                RETURNING id""")
            event(strict.port, "rebind.test", {"x": 1})
            entry = wait_for(lambda: [m for m in log(strict.port, eid)["results"] if m["attempts"]], what="a refused attempt")[0]
            assert "refused" in entry["attempts"][0]["error"] and "loopback" in entry["attempts"][0]["error"], entry
            assert entry["attempts"][0]["status_code"] is None
            time.sleep(0.5)
            assert receiver.to("/rebind") == []
            psql(f"DELETE FROM webhook_endpoints WHERE id = {eid}")
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY) as https_only:
            status, _, answer = api(https_only.port, "POST", "/api/v1/webhooks/endpoints/",
                                    {"url": "http://example.com/hook", "event_types": ["a"]}, api_key=KEY)
            assert status == 400 and "https" in answer["details"]["url"][0], answer

    try:
        checks.run("endpoints: 201 with a whsec_ secret shown once, list, detail, PATCH, DELETE; every bad input 400 by "
                   "field; 401/403/404", endpoints_api_and_every_bad_input)
        checks.run("an event without recipients reaches the subscribed endpoint, verified by standardwebhooks; the other "
                   "gets nothing", event_without_recipients_reaches_only_subscribers)
        checks.run("500 twice: the same webhook-id three times at the shortened schedule; the delivery log has each "
                   "attempt", retries_keep_the_webhook_id_on_the_short_schedule)
        checks.run("410 disables the endpoint at once", gone_410_disables_the_endpoint)
        checks.run("replay, test and recover send again with the same webhook-id", replay_and_test_and_recover_resend_with_the_same_id)
        checks.run("rotation: two signatures, each verifying with its own secret; one after the overlap",
                   rotation_signs_twice_during_the_overlap)
        checks.run("hub events: user.created, notification.delivered/failed (SMS, with the reason), notification.read "
                   "over the socket (wildcard)", hub_events_read_delivered_failed_user_created)
        checks.run("presence.online once; presence.offline once, after the grace, when the last tab closes",
                   presence_offline_once_after_the_grace)
        checks.run("an endpoint failing for 5 days is disabled with the reason", failing_for_five_days_disables)
        checks.run("nothing lost while the receiver is down for a minute; same webhook-ids",
                   nothing_lost_while_the_receiver_is_down_for_a_minute)
    finally:
        hubd.stop()
    try:
        # Alone on the database: the hubd above (private addresses allowed) would send what this one refuses.
        checks.run("SSRF: private, loopback, link-local, decimal/octal and mapped addresses refused with 400; localhost "
                   "refused at connect time; https only by default", ssrf_refused_at_registration_and_at_connect)
    finally:
        # The suites after this one share the database: no endpoint of this one is left to send to.
        psql("DELETE FROM webhook_endpoints")
    checks.exit()


if __name__ == "__main__":
    main()
