#!/usr/bin/env python3
"""The Python SDK (clients/python, installed by `make test`) against a real hubd: every Hub
method; retries through a local proxy that answers 503 / 429 or drops the connection before
forwarding, with one idempotency key per event across its retries and exactly one notification;
connection refused retried then raised; typed errors with the API's code and details; the
webhook verifier judged by the `standardwebhooks` package; and hub.django in a real Django
project configured in-process (sqlite, a migrated app): a rolled-back transaction sends nothing,
a committed one exactly one event."""
import base64
import http.client
import http.server
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import standardwebhooks
import websocket

import hub
from hub import Hub, RetryPolicy, event
from hub.webhooks import Webhook, WebhookVerificationError

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, Recorder, api, free_port, register_user as register, wait_for  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
FAST = RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.2, max_retry_after=5)
USED = set()


class TracedHub(Hub):
    """A Hub that records which public methods the suite called (every one must be)."""

    def __getattribute__(self, name):
        if not name.startswith("_"):
            USED.add(name)
        return super().__getattribute__(name)


class Proxy:
    """A local HTTP proxy in front of hubd. `script` holds what to do with the next requests:
    ("status", code, retry_after) answers that error itself, ("drop",) forwards the request and
    then closes the connection without an answer (the hub did it, the client never hears);
    with the script empty it forwards. Every request is recorded with its idempotency keys."""

    def __init__(self, target_port, port=0):
        self.target_port = target_port
        self.script = []
        self.seen = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    action = proxy.script.pop(0) if proxy.script else ("forward",)
                    proxy.seen.append({"method": self.command, "path": self.path, "keys": idempotency_keys(body),
                                       "time": time.monotonic(), "action": action[0]})
                if action[0] == "status":
                    _, code, retry_after = action
                    data = json.dumps({"error": "try later", "error_code": "PROXY_SAYS", "details": {}}).encode()
                    self.send_response(code)
                    if retry_after is not None:
                        self.send_header("Retry-After", str(retry_after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                status, headers, data = proxy.forward(self.command, self.path, self.headers, body)
                if action[0] == "drop":
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=30)
        forwarded = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        connection.request(method, path, body=body or None, headers=forwarded)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.getheaders(), data

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def requests(self, path=None):
        with self.lock:
            return [r for r in self.seen if path is None or r["path"] == path]

    def reset(self, *script):
        with self.lock:
            self.seen.clear()
            self.script[:] = list(script)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def idempotency_keys(body):
    """The idempotency keys in a request body: one for an event, one per event for a bulk."""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("events"), list):
        return [e.get("idempotency_key") for e in payload["events"]]
    return [payload["idempotency_key"]] if "idempotency_key" in payload else []


def notifications(port, user):
    """The user's own notifications (announcements other suites left in the shared database are
    in every user's list: they are left out)."""
    status, _, answer = api(port, "GET", "/api/v1/notifications/?page_size=100", token=user["token"])
    assert status == 200, answer
    return [n for n in answer["results"] if n["recipient"] == user["id"]]


def expect(error_type, fn):
    try:
        fn()
    except error_type as error:
        return error
    raise AssertionError(f"expected {error_type.__name__}")


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_PRESENCE_GRACE_MS=200,
              HUB_WEBHOOK_ALLOW_HTTP=1, HUB_WEBHOOK_ALLOW_PRIVATE=1, HUB_OUTBOX_RETRY_BASE_MS=200) as hubd:
        port = hubd.port
        direct = TracedHub(f"http://127.0.0.1:{port}", api_key=KEY, retry=FAST)
        proxy = Proxy(port)
        via_proxy = TracedHub(proxy.url(), api_key=KEY, retry=FAST)

        def events():
            """send / send_event / send_bulk: stored and answered; the same event twice is one notification."""
            user = register(port, "Amina")
            accepted = direct.send_event("system_alert", users=[user["id"]], title="Hello", message="One",
                                         data={"message": "One"}, priority="HIGH")
            assert accepted["count"] == 1 and accepted["duplicate"] is False, accepted
            again = event("system_alert", users=[user["id"]], data={"message": "Two"})
            first, second = direct.send(again), direct.send(again)
            assert first["duplicate"] is False and second["duplicate"] is True, (first, second)
            assert second["notification_ids"] == first["notification_ids"] or second["count"] == 0, second
            plain = direct.send({"type": "system_alert", "recipients": {"users": [user["id"]]},
                                 "data": {"message": "a plain dict gets a key"}})
            assert plain["count"] == 1, plain
            bulk = direct.send_bulk([event("system_alert", users=[user["id"]], data={"message": f"b{i}"})
                                     for i in range(3)])
            assert bulk["count"] == 3 and bulk["notifications_sent"] == 3, bulk
            stored = notifications(port, user)
            assert len(stored) == 6, [n["title"] for n in stored]
            assert stored[0]["id"] == bulk["results"][-1]["notification_ids"][0]
            assert any(n["priority"] == "HIGH" and n["title"] == "Hello" for n in stored)

        def scheduled_and_cancel():
            """schedule / scheduled / cancel: a scheduled event is listed, cancelled by its key; one due now fires."""
            user = register(port, "Yusuf")
            key = "sdk-" + uuid.uuid4().hex
            later = datetime.now(timezone.utc) + timedelta(hours=2)
            answer = direct.schedule("system_alert", later, cancellation_key=key, users=[user["id"]],
                                     data={"message": "later"})
            assert answer["scheduled_id"] > 0 and answer["duplicate"] is False, answer
            listed = direct.scheduled(cancellation_key=key)
            assert [s["scheduled_id"] for s in listed["results"]] == [answer["scheduled_id"]], listed
            assert direct.cancel(key)["cancelled"] == 1
            assert direct.scheduled(cancellation_key=key)["results"] == []
            soon = direct.schedule("system_alert", datetime.now(timezone.utc) + timedelta(seconds=1),
                                   users=[user["id"]], data={"message": "soon"})
            assert soon["scheduled_id"] > 0
            wait_for(lambda: notifications(port, user), 30, "the scheduled event to fire")
            expect(ValueError, lambda: event("system_alert", users=[1], send_at=datetime.now()))

        def reminders():
            """create_reminder / reminders / reminder / update_reminder / skip / unskip / delete_reminder."""
            user = register(port, "Khadija")
            created = direct.create_reminder("system_alert", {"daily": "07:30", "timezone": "Africa/Casablanca"},
                                             users=[user["id"]], title="Wird", message="Daily wird",
                                             cancellation_key="sdk-rem-" + uuid.uuid4().hex)
            rid = created["id"]
            assert created["active"] is True and created["rule"]["daily"] == "07:30", created
            assert rid in [r["id"] for r in direct.reminders(page_size=100)["results"]]
            assert direct.reminder(rid)["type"] == "system_alert"
            assert direct.update_reminder(rid, active=False)["active"] is False
            day = (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()
            skipped = direct.skip_reminder(rid, day, reason="holiday")
            assert [s["date"] for s in skipped["skipped"]] == [day], skipped
            assert direct.unskip_reminder(rid, day)["skipped"] == []
            direct.delete_reminder(rid)
            error = expect(hub.NotFound, lambda: direct.reminder(rid))
            assert error.status == 404 and error.code, vars(error)

        def rooms_guardians_presence():
            """Rooms, guardians and presence methods against live sessions; a guardians_of event reaches the parent."""
            student, other = register(port, "Omar"), register(port, "Sara")
            parent = register(port, "Hassan", role="PARENT")
            room = f"class:{uuid.uuid4().hex[:10]}"
            direct.add_room_members(room, [student["id"], other["id"]])
            assert members_of(direct.room_members(room)) == {student["id"], other["id"]}, direct.room_members(room)
            direct.remove_room_member(room, other["id"])
            assert members_of(direct.room_members(room)) == {student["id"]}
            expect(hub.NotFound, lambda: direct.remove_room_member(room, other["id"]))
            direct.add_guardian(student["id"], parent["id"])
            direct.add_guardian(student["id"], parent["id"])  # a repeat (a retry) is harmless
            assert members_of(direct.guardians(student["id"])) == {parent["id"]}
            sent = direct.send_event("system_alert", guardians_of=[student["id"]], data={"message": "to parents"})
            assert sent["count"] == 1 and len(notifications(port, parent)) == 1
            direct.remove_guardian(student["id"], parent["id"])
            assert members_of(direct.guardians(student["id"])) == set()
            assert direct.presence(student["id"])["online"] is False
            session = websocket.create_connection(f"ws://127.0.0.1:{port}/ws/notifications/?token={student['token']}")
            try:
                assert json.loads(session.recv())["type"] == "connected"
                session.send(json.dumps({"type": "subscribe", "room": room}))
                assert json.loads(session.recv())["type"] == "presence_state"
                assert direct.presence(student["id"])["online"] is True
                many = direct.presence_of([student["id"], other["id"]])
                online = {entry["user_id"]: entry["online"] for entry in many["results"]}
                assert online == {student["id"]: True, other["id"]: False}, many
                assert student["id"] in members_of(direct.room_presence(room)), direct.room_presence(room)
            finally:
                session.close()
            assert direct.health()["status"] in ("healthy", "ok"), direct.health()

        def webhook_endpoints():
            """Endpoint methods against a live receiver: what arrives verifies with the secret the
            SDK was given; replay keeps the webhook-id; a rotated secret verifies the next message."""
            receiver = Recorder()
            path = f"/hooks/{uuid.uuid4().hex[:8]}"
            kind = f"sdk.{uuid.uuid4().hex[:8]}"
            created = direct.create_webhook_endpoint(f"http://127.0.0.1:{receiver.port}{path}", [kind],
                                                     description="SDK")
            assert created["secret"].startswith("whsec_") and created["event_types"] == [kind], created
            eid = created["id"]
            assert eid in {e["id"] for e in direct.webhook_endpoints()["results"]}
            assert direct.webhook_endpoint(eid)["description"] == "SDK" and "secret" not in direct.webhook_endpoint(eid)
            arrived = lambda: receiver.matching(lambda r: r["path"] == path)  # noqa: E731
            direct.send_event(kind, data={"course": "Tajweed 1"})
            first = wait_for(arrived, what="the event at the endpoint")[0]
            assert Webhook(created["secret"]).verify(first["body"], first["headers"])["data"] == {"course": "Tajweed 1"}
            message = wait_for(lambda: [m for m in direct.webhook_deliveries(eid, page_size=5)["results"]
                                        if m["status"] == "DELIVERED"], what="the delivery log")[0]
            replayed = direct.replay_webhook_message(message["id"])
            assert replayed["webhook_id"] == first["headers"]["webhook-id"], replayed
            again = wait_for(lambda: arrived()[1:], what="the replay")[0]
            assert again["headers"]["webhook-id"] == first["headers"]["webhook-id"] and again["body"] == first["body"]
            rotated = direct.rotate_webhook_secret(eid)
            assert rotated["secret"] != created["secret"], rotated
            test = direct.test_webhook_endpoint(eid)
            probe = wait_for(lambda: [r for r in arrived() if r["headers"]["webhook-id"] == test["webhook_id"]],
                             what="the test message")[0]
            assert Webhook(rotated["secret"]).verify(probe["body"], probe["headers"])["type"] == "webhook.test"
            assert direct.update_webhook_endpoint(eid, disabled=True)["disabled"] is True
            expect(hub.Conflict, lambda: direct.recover_webhook_endpoint(eid, datetime.now(timezone.utc) - timedelta(days=1)))
            direct.update_webhook_endpoint(eid, disabled=False)
            assert direct.recover_webhook_endpoint(eid, "2020-01-01T00:00:00Z")["queued"] == 0  # nothing failed
            direct.delete_webhook_endpoint(eid)
            expect(hub.NotFound, lambda: direct.webhook_endpoint(eid))

        def typed_errors():
            """Errors raise typed exceptions carrying the API's code, message and per-field details."""
            error = expect(hub.BadRequest, lambda: direct.send_event("no_such_type", users=[1]))
            assert error.status == 400 and error.code and error.message and error.details, vars(error)
            error = expect(hub.BadRequest, lambda: direct.add_room_members("nonsense", [1]))
            assert error.status == 400 and error.details, vars(error)
            with Hub(f"http://127.0.0.1:{port}", api_key="wrong-key", retry=FAST) as stranger:
                error = expect(hub.AuthenticationFailed, lambda: stranger.send_event("system_alert", users=[1]))
            assert error.status == 401 and error.code, vars(error)
            too_many = [event("system_alert", users=[1], data={"message": "x"}) for _ in range(1001)]
            error = expect(hub.PayloadTooLarge, lambda: direct.send_bulk(too_many))
            assert error.status == 413, vars(error)
            assert isinstance(error, hub.HubError) and "413" in str(error)

        def retry_503_same_key():
            """Two 503s, then a forwarded request: three attempts with ONE idempotency key, one notification."""
            user = register(port, "Bilal")
            proxy.reset(("status", 503, None), ("status", 503, None))
            accepted = via_proxy.send_event("system_alert", users=[user["id"]], data={"message": "after 503s"})
            attempts = proxy.requests("/api/v1/events/")
            assert [a["action"] for a in attempts] == ["status", "status", "forward"], attempts
            keys = {a["keys"][0] for a in attempts}
            assert len(keys) == 1 and None not in keys, attempts
            assert accepted["count"] == 1 and accepted["duplicate"] is False
            assert len(notifications(port, user)) == 1

        def retry_after_lost_answer():
            """The hub stores the event but the answer is lost (connection dropped): the retry carries the
            same key, the hub answers duplicate, and the recipient has exactly one notification."""
            user = register(port, "Layla")
            proxy.reset(("drop",))
            accepted = via_proxy.send_event("system_alert", users=[user["id"]], data={"message": "once"})
            attempts = proxy.requests("/api/v1/events/")
            assert [a["action"] for a in attempts] == ["drop", "forward"], attempts
            assert attempts[0]["keys"] == attempts[1]["keys"], attempts
            assert accepted["duplicate"] is True, accepted
            assert len(notifications(port, user)) == 1

        def retry_bulk_keys():
            """A bulk request retried after a 503 carries the same key for each of its events."""
            user = register(port, "Zaid")
            proxy.reset(("status", 503, None), ("drop",))
            answer = via_proxy.send_bulk([event("system_alert", users=[user["id"]], data={"message": f"m{i}"})
                                          for i in range(3)])
            attempts = proxy.requests("/api/v1/events/bulk/")
            assert len(attempts) == 3 and attempts[0]["keys"] == attempts[1]["keys"] == attempts[2]["keys"], attempts
            assert len(set(attempts[0]["keys"])) == 3 and all(r["duplicate"] for r in answer["results"]), answer
            assert len(notifications(port, user)) == 3

        def retry_429_honours_retry_after():
            """429 with Retry-After: 1 waits a second (the back-off alone would be ~20 ms), then succeeds;
            a Retry-After beyond max_retry_after raises RateLimited at once with the value."""
            user = register(port, "Nour")
            proxy.reset(("status", 429, 1))
            via_proxy.send_event("system_alert", users=[user["id"]], data={"message": "after 429"})
            attempts = proxy.requests("/api/v1/events/")
            assert len(attempts) == 2 and attempts[0]["keys"] == attempts[1]["keys"], attempts
            waited = attempts[1]["time"] - attempts[0]["time"]
            assert 1.0 <= waited < 2.0, waited
            proxy.reset(("status", 429, 60))
            error = expect(hub.RateLimited, lambda: via_proxy.send_event("system_alert", users=[user["id"]]))
            assert error.retry_after == 60 and error.code == "PROXY_SAYS" and len(proxy.requests()) == 1
            assert len(notifications(port, user)) == 1

        def retries_give_up():
            """503 on every attempt: ServiceUnavailable after `attempts` tries, nothing stored."""
            user = register(port, "Idris")
            proxy.reset(*[("status", 503, None)] * FAST.attempts)
            error = expect(hub.ServiceUnavailable, lambda: via_proxy.send_event("system_alert", users=[user["id"]]))
            assert error.status == 503 and len(proxy.requests()) == FAST.attempts
            assert notifications(port, user) == []

        def connection_refused():
            """Refused connections are retried with back-off: a hub that comes up during the back-off is
            reached; one that never does raises HubConnectionError after every attempt."""
            user = register(port, "Rania")
            closed = free_port()
            patient = Hub(f"http://127.0.0.1:{closed}", api_key=KEY,
                          retry=RetryPolicy(attempts=8, base_delay=0.2, max_delay=0.4))
            late = {}
            timer = threading.Timer(0.3, lambda: late.setdefault("proxy", Proxy(port, port=closed)))
            timer.start()
            started = time.monotonic()
            accepted = patient.send_event("system_alert", users=[user["id"]], data={"message": "late hub"})
            assert accepted["count"] == 1 and time.monotonic() - started >= 0.3
            assert len(late["proxy"].requests()) == 1
            late["proxy"].stop()
            patient.close()
            never = Hub(f"http://127.0.0.1:{free_port()}", api_key=KEY,
                        retry=RetryPolicy(attempts=3, base_delay=0.2, max_delay=0.2))
            started = time.monotonic()
            error = expect(hub.HubConnectionError, lambda: never.send_event("system_alert", users=[user["id"]]))
            elapsed = time.monotonic() - started
            assert 0.2 <= elapsed < 5, elapsed  # two back-offs of 0.1-0.2 s each
            assert error.status is None and "Connection refused" in str(error), str(error)
            assert len(notifications(port, user)) == 1

        def not_replayable_not_repeated():
            """A reminder (no idempotency key) whose answer is lost is not posted again: one request, an
            error. One whose connection was refused never reached the hub: it is retried."""
            user = register(port, "Hamza")
            proxy.reset(("drop",))
            expect(hub.HubConnectionError, lambda: via_proxy.create_reminder(
                "system_alert", {"daily": "08:00"}, users=[user["id"]], title="t", message="m"))
            assert len(proxy.requests("/api/v1/reminders/")) == 1
            closed = free_port()
            late = {}
            timer = threading.Timer(0.3, lambda: late.setdefault("proxy", Proxy(port, port=closed)))
            timer.start()
            with Hub(f"http://127.0.0.1:{closed}", api_key=KEY,
                     retry=RetryPolicy(attempts=8, base_delay=0.2, max_delay=0.4)) as patient:
                created = patient.create_reminder("system_alert", {"daily": "08:00"}, users=[user["id"]],
                                                  title="t", message="m")
            assert created["id"] > 0 and len(late["proxy"].requests("/api/v1/reminders/")) == 1
            late["proxy"].stop()

        def django_integration():
            """A real Django project in-process: the model mixin and notify() post on commit only."""
            run_django(port, proxy)

        def every_method_used():
            """Every public Hub method ran at least once against the real hubd."""
            public = {n for n in dir(Hub) if not n.startswith("_") and callable(getattr(Hub, n))}
            missing = public - USED - {"close"}
            assert not missing, sorted(missing)

        for name, check in [("events", events), ("scheduled_and_cancel", scheduled_and_cancel),
                            ("reminders", reminders), ("rooms_guardians_presence", rooms_guardians_presence),
                            ("webhook_endpoints", webhook_endpoints),
                            ("typed_errors", typed_errors), ("retry_503_same_key", retry_503_same_key),
                            ("retry_after_lost_answer", retry_after_lost_answer), ("retry_bulk_keys", retry_bulk_keys),
                            ("retry_429_honours_retry_after", retry_429_honours_retry_after),
                            ("retries_give_up", retries_give_up), ("connection_refused", connection_refused),
                            ("not_replayable_not_repeated", not_replayable_not_repeated),
                            ("django_integration", django_integration), ("every_method_used", every_method_used)]:
            checks.run(name, check)
        with direct, via_proxy:
            pass
        proxy.stop()
    checks.run("staff_token_and_the_hubs_own_429", staff_token_and_the_hubs_own_429)
    checks.run("webhook_signatures_against_standardwebhooks", webhook_signatures)
    checks.run("sdk_is_typed", sdk_is_typed)
    checks.run("importable_without_django", importable_without_django)
    checks.exit()


def members_of(answer):
    """The user ids of a members list ({members: [{user_id}]}) or a users list ({results: [{id}]})."""
    return {entry.get("user_id", entry.get("id")) for entry in answer.get("members", answer.get("results"))}


def run_django(port, proxy):
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["sdk_django_app"], USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        HUB_URL=proxy.url(), HUB_API_KEY=KEY, HUB_RETRY=FAST)
    django.setup()
    call_command("migrate", verbosity=0)
    from hub.django import notify
    from sdk_django_app.models import Absence

    class RolledBack(Exception):
        pass

    student = register(port, "Ilyas")
    proxy.reset()

    # A model created in a transaction that rolls back: nothing is sent.
    try:
        with transaction.atomic():
            Absence.objects.create(student_id=student["id"], subject="Math")
            notify("system_alert", users=[student["id"]], data={"message": "rolled back"})
            raise RolledBack
    except RolledBack:
        pass
    assert Absence.objects.count() == 0
    time.sleep(0.3)
    assert proxy.requests() == [] and notifications(port, student) == []

    # A savepoint rolled back inside a committed transaction: only the outer creation is sent.
    with transaction.atomic():
        kept = Absence.objects.create(student_id=student["id"], subject="Arabic")
        try:
            with transaction.atomic():
                Absence.objects.create(student_id=student["id"], subject="Physics")
                raise RolledBack
        except RolledBack:
            pass
        assert proxy.requests() == []  # nothing before the commit
    sent = proxy.requests("/api/v1/events/")
    assert len(sent) == 1, sent
    stored = notifications(port, student)
    assert len(stored) == 1 and stored[0]["title"] == "Absence" and stored[0]["message"] == "Absent in Arabic", stored
    assert Absence.objects.filter(pk=kept.pk).exists()

    # Saving it again (an update) sends nothing more.
    kept.subject = "Arabic II"
    kept.save()
    assert len(proxy.requests()) == 1

    # notify() in autocommit sends at once; send_now=True inside a transaction sends before the commit.
    notify("system_alert", users=[student["id"]], data={"message": "autocommit"})
    assert len(proxy.requests()) == 2
    with transaction.atomic():
        answer = notify("system_alert", users=[student["id"]], data={"message": "now"}, send_now=True)
        assert answer["count"] == 1 and len(proxy.requests()) == 3
    assert len(notifications(port, student)) == 3

    # A 503 on the commit-time post is retried with the same key: one notification.
    proxy.reset(("status", 503, None))
    with transaction.atomic():
        Absence.objects.create(student_id=student["id"], subject="History")
    attempts = proxy.requests("/api/v1/events/")
    assert len(attempts) == 2 and attempts[0]["keys"] == attempts[1]["keys"], attempts
    assert len(notifications(port, student)) == 4

    # A hub down through every retry after the commit: logged, the committed work stands, no exception.
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("hub").addHandler(handler)
    settings.HUB_URL = f"http://127.0.0.1:{free_port()}"
    try:
        with transaction.atomic():
            Absence.objects.create(student_id=student["id"], subject="Geography")
    finally:
        settings.HUB_URL = proxy.url()
        logging.getLogger("hub").removeHandler(handler)
    assert Absence.objects.filter(subject="Geography").count() == 1
    assert len(records) == 1 and "was not sent" in records[0].getMessage(), records


def staff_token_and_the_hubs_own_429():
    """A staff access token works as the credential; past the hub's own per-user limit its 429 is
    RateLimited with the hub's code and Retry-After (longer than the client waits: raised at once)."""
    limit = 5
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=limit) as hubd:
        staff = register(hubd.port, "Staff", role="STAFF", api_key=KEY)
        student = register(hubd.port, "Sami")
        with TracedHub(f"http://127.0.0.1:{hubd.port}", token=staff["token"], retry=FAST) as as_staff:
            answers = []
            error = None
            for _ in range(limit + 1):
                try:
                    answers.append(as_staff.send_event("system_alert", users=[student["id"]], data={"message": "x"}))
                except hub.RateLimited as raised:
                    error = raised
                    break
        assert error is not None and len(answers) >= 1, answers
        assert error.status == 429 and error.code and error.retry_after and error.retry_after > FAST.max_retry_after, vars(error)
        assert len(notifications(hubd.port, student)) == len(answers)


def importable_without_django():
    """`import hub` and `import hub.django` work where Django is absent (it is imported on first use)."""
    code = ("import sys; sys.modules['django'] = None; import hub, hub.django, hub.webhooks; "
            "assert 'django.db' not in sys.modules; print(hub.event('system_alert', users=[1])['type'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "system_alert", result.stderr


def sdk_is_typed():
    """The installed package is marked typed (py.typed) and its sources pass mypy --strict."""
    assert os.path.exists(os.path.join(os.path.dirname(hub.__file__), "py.typed"))
    sdk = os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python")
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", os.path.join(sdk, "pyproject.toml"),
                             "--cache-dir", os.path.join(tempfile.gettempdir(), "hub-sdk-mypy"),
                             os.path.join(sdk, "src", "hub")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def webhook_signatures():
    """Our verifier and the standardwebhooks package agree both ways, on the good and the bad."""
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    theirs, ours = standardwebhooks.Webhook(secret), Webhook(secret)
    body = json.dumps({"type": "notification.created", "data": {"id": 7, "title": "مرحبا"}}, ensure_ascii=False)
    msg_id, now = "msg_" + uuid.uuid4().hex, int(time.time())

    their_signature = theirs.sign(msg_id, datetime.fromtimestamp(now, timezone.utc), body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": their_signature}
    assert ours.verify(body.encode(), headers) == json.loads(body)
    assert ours.sign(msg_id, now, body) == their_signature

    our_signature = ours.sign(msg_id, now, body.encode())
    headers = {"Webhook-Id": msg_id, "Webhook-Timestamp": str(now), "Webhook-Signature": our_signature}
    assert theirs.verify(body, headers) == json.loads(body)

    other = Webhook("whsec_" + base64.b64encode(os.urandom(24)).decode())
    rotated = {**headers, "Webhook-Signature": f"{other.sign(msg_id, now, body)} v2,abc {our_signature}"}
    assert ours.verify(body, rotated) and theirs.verify(body, rotated)
    assert hub.webhooks.verify(secret, body, rotated) == json.loads(body)

    bad = [
        {**headers, "Webhook-Signature": other.sign(msg_id, now, body)},          # another secret
        {**headers, "Webhook-Id": msg_id + "x"},                                   # another id
        {**headers, "Webhook-Timestamp": str(now - 301)},                          # too old (5 min)
        {**headers, "Webhook-Timestamp": str(now + 301)},                          # from the future
        {k: v for k, v in headers.items() if k != "Webhook-Signature"},            # missing header
    ]
    for case in bad:
        expect(WebhookVerificationError, lambda: ours.verify(body, case))
        expect(standardwebhooks.webhooks.WebhookVerificationError, lambda: theirs.verify(body, case))
    tampered = body.replace("7", "8")
    expect(WebhookVerificationError, lambda: ours.verify(tampered, headers))
    expect(standardwebhooks.webhooks.WebhookVerificationError, lambda: theirs.verify(tampered, headers))
    old = {**headers, "Webhook-Timestamp": str(now - 240),
           "Webhook-Signature": ours.sign(msg_id, now - 240, body)}
    assert ours.verify(body, old) and theirs.verify(body, old)  # within the tolerance
    raw_key = base64.b64decode(secret[len("whsec_"):])
    assert Webhook(raw_key).sign(msg_id, now, body) == our_signature == Webhook(secret[6:]).sign(msg_id, now, body)
    expect(ValueError, lambda: Webhook("whsec_not base64!"))


if __name__ == "__main__":
    main()
