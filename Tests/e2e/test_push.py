#!/usr/bin/env python3
"""Web Push through hubd and a real PostgreSQL, checked by independent implementations: a local
recording push service receives each message, `http_ece` decrypts it with the subscription's
private key (generated here, as a browser would) and `cryptography` verifies the VAPID JWT.
Also: the subscription API and its per-field 400s, 410 deleting a subscription, 429 with
Retry-After honoured, the push switch, and hubd refusing a malformed VAPID key."""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, os.path.dirname(__file__))
from hubd import BINARY, DATABASE_URL, SECRET, Checks, Hubd, api, psql, register_user, wait_for  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
VAPID_KEY = ec.generate_private_key(ec.SECP256R1())
VAPID_PEM = VAPID_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
VAPID_PUBLIC = VAPID_KEY.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_OUTBOX_RETRY_BASE_MS": 200,
        "HUB_OUTBOX_MAX_ATTEMPTS": 30, "HUB_DELIVERY_TIMEOUT": 2, "HUB_VAPID_PRIVATE_KEY": VAPID_PEM,
        "HUB_VAPID_SUBJECT": "mailto:ops@school.ma", "HUB_PUSH_ALLOW_HTTP": "1"}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A local push service: records every POST (path, headers, body, time) and answers from a
    script of (status, headers), then 201."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with service.lock:
                    service.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                             "time": time.time()})
                    status, headers = service.script.pop(0) if service.script else (201, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


class Browser:
    """A subscription as a browser makes it: its own P-256 key pair and auth secret."""

    def __init__(self, service, name):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.path = f"/wpush/{name}-{uuid.uuid4().hex[:8]}"
        self.endpoint = f"http://127.0.0.1:{service.port}{self.path}"
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.json = {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64(public),
                                                                               "auth": b64(self.auth)}}

    def decrypt(self, body):
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))



def subscribe(port, person, browser, user_agent="e2e"):
    status, _, answer = api(port, "POST", "/api/v1/push/subscriptions/", dict(browser.json, user_agent=user_agent),
                            token=person["token"])
    assert status == 201, (status, answer)
    return answer


def post(port, user_ids, type_="attendance_alert", priority=None, **data):
    payload = {"student_name": "Yasmine", "status": "absent", "subject": "Maths", "class": "1A", "session_date": "today", "session_time": "09:00", **data}
    body = {"type": type_, "recipients": {"users": user_ids}, "data": payload}
    if priority:
        body["priority"] = priority
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, answer
    return answer


def deliveries(port, person, nid):
    return api(port, "GET", f"/api/v1/notifications/{nid}/deliveries/", token=person["token"])[2]["results"]


def verify_vapid(headers, service_port):
    """The JWT verifies against the hub's public key, with aud = the push service's origin and exp ≤ 12 h."""
    authorization = headers["Authorization"]
    assert authorization.startswith("vapid t="), authorization
    token, key = authorization[len("vapid t="):].split(", k=")
    assert unb64(key) == VAPID_PUBLIC
    header, claims, signature = token.split(".")
    raw = unb64(signature)
    assert len(raw) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    try:
        public.verify(der, f"{header}.{claims}x".encode(), ec.ECDSA(hashes.SHA256()))
        raise AssertionError("a changed JWT still verified")
    except InvalidSignature:
        pass
    assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    claims = json.loads(unb64(claims))
    assert claims["aud"] == f"http://127.0.0.1:{service_port}", claims
    assert time.time() < claims["exp"] <= time.time() + 12 * 3600 + 5, claims
    assert claims["sub"] == "mailto:ops@school.ma"


def main():
    psql("DO $$ BEGIN IF to_regclass('deliveries') IS NOT NULL THEN UPDATE deliveries SET status = 'FAILED', "
         "last_error = 'left by an earlier suite' WHERE status IN ('PENDING', 'RETRY', 'SENDING'); END IF; END $$")
    service = PushService()
    hubd = Hubd(**BASE)

    def subscription_api_and_every_bad_input():
        status, _, answer = api(hubd.port, "GET", "/api/v1/push/vapid-public-key/")
        assert status == 200 and unb64(answer["public_key"]) == VAPID_PUBLIC, answer
        person = register_user(hubd.port, "Salma")
        other = register_user(hubd.port, "Omar")
        browser = Browser(service, "salma")
        good = browser.json
        bad = [
            ({"keys": good["keys"]}, "endpoint"),
            (dict(good, endpoint="ftp://push.example/x"), "endpoint"),
            (dict(good, endpoint="not a url"), "endpoint"),
            (dict(good, keys={"p256dh": b64(os.urandom(64)), "auth": good["keys"]["auth"]}), "keys.p256dh"),
            (dict(good, keys={"p256dh": b64(b"\x04" + os.urandom(64)), "auth": good["keys"]["auth"]}), "keys.p256dh"),
            (dict(good, keys={"p256dh": "***", "auth": good["keys"]["auth"]}), "keys.p256dh"),
            (dict(good, keys={"p256dh": good["keys"]["p256dh"], "auth": b64(os.urandom(15))}), "keys.auth"),
            (dict(good, keys={"p256dh": good["keys"]["p256dh"]}), "keys.auth"),
            ({"endpoint": good["endpoint"]}, "keys"),
            (dict(good, keys="x"), "keys"),
            (dict(good, expirationTime="soon"), "expirationTime"),
            (dict(good, user_agent=7), "user_agent"),
        ]
        for body, field in bad:
            status, _, answer = api(hubd.port, "POST", "/api/v1/push/subscriptions/", body, token=person["token"])
            assert status == 400 and answer["error_code"] == "VALIDATION_ERROR", (body, status, answer)
            assert field in answer["details"], (field, answer)
        status, _, answer = api(hubd.port, "POST", "/api/v1/push/subscriptions/", good)
        assert status == 401, status
        created = subscribe(hubd.port, person, browser)
        assert created["endpoint"] == browser.endpoint and created["id"] and created["created_at"], created
        status, _, again = api(hubd.port, "POST", "/api/v1/push/subscriptions/", dict(good, user_agent="renewed"),
                               token=person["token"])
        assert status == 200 and again["id"] == created["id"] and again["user_agent"] == "renewed", (status, again)
        status, _, listed = api(hubd.port, "GET", "/api/v1/push/subscriptions/", token=person["token"])
        assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"], listed
        assert api(hubd.port, "GET", "/api/v1/push/subscriptions/", token=other["token"])[2]["count"] == 0
        status, _, _ = api(hubd.port, "DELETE", f"/api/v1/push/subscriptions/{created['id']}/", token=other["token"])
        assert status == 404, status
        status, _, _ = api(hubd.port, "DELETE", f"/api/v1/push/subscriptions/{created['id']}/", token=person["token"])
        assert status == 204, status
        assert api(hubd.port, "GET", "/api/v1/push/subscriptions/", token=person["token"])[2]["count"] == 0

    def arabic_push_decrypts_with_http_ece_and_vapid_verifies():
        parent = register_user(hubd.port, "Khadija", language="ar")
        phone, laptop = Browser(service, "phone"), Browser(service, "laptop")
        subscribe(hubd.port, parent, phone)
        subscribe(hubd.port, parent, laptop)
        answer = post(hubd.port, [parent["id"]], url="/children/7/attendance", collapse_key="absence-7", ttl=600)
        nid = answer["notification_ids"][0]
        status, _, item = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=parent["token"])
        assert "PUSH" in item["delivery_method"], item["delivery_method"]
        for browser in (phone, laptop):
            request = wait_for(lambda: browser.to_requests(service), what=f"the push to {browser.path}")[0]
            headers = request["headers"]
            assert headers["Content-Encoding"] == "aes128gcm", headers
            assert headers["TTL"] == "600" and headers["Urgency"] == "high" and headers["Topic"] == "absence-7", headers
            verify_vapid(headers, service.port)
            payload = browser.decrypt(request["body"])
            assert payload["id"] == nid and payload["type"] == "attendance_alert", payload
            assert payload["title"] == "تنبيه الحضور", payload["title"]
            assert "Yasmine" in payload["message"] and payload["message"] == item["message"], payload
            assert payload["url"] == "/children/7/attendance" and payload["priority"] == "HIGH", payload
            assert payload["timestamp"] == item["created_at"], (payload, item["created_at"])
            assert payload["collapse_key"] == "absence-7", payload
        rows = wait_for(lambda: [d for d in deliveries(hubd.port, parent, nid) if d["channel"] == "PUSH"
                                 and d["status"] == "DELIVERED"] if len([d for d in deliveries(hubd.port, parent, nid)
                                 if d["channel"] == "PUSH" and d["status"] == "DELIVERED"]) == 2 else None,
                        what="two PUSH deliveries DELIVERED")
        assert len(rows) == 2

    def a_long_message_is_shortened_never_the_json():
        person = register_user(hubd.port, "Long")
        browser = Browser(service, "long")
        subscribe(hubd.port, person, browser)
        status, _, answer = api(hubd.port, "POST", "/api/v1/events/", {
            "type": "custom_note", "title": "Note", "message": "ب" * 4000, "recipients": {"users": [person["id"]]}},
            api_key=KEY)
        assert status == 202, answer
        request = wait_for(lambda: browser.to_requests(service), what="the long push")[0]
        payload = browser.decrypt(request["body"])
        plain = http_ece.decrypt(request["body"], private_key=browser.key, auth_secret=browser.auth, version="aes128gcm")
        assert len(plain) <= 3993, len(plain)
        assert payload["message"].endswith("…") and payload["message"].startswith("ببب"), payload["message"][:10]
        assert request["headers"]["Urgency"] == "normal" and "Topic" not in request["headers"]

    def gone_410_deletes_the_subscription():
        person = register_user(hubd.port, "Gone")
        browser = Browser(service, "gone")
        created = subscribe(hubd.port, person, browser)
        with service.lock:
            service.script.append((410, {}))
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        row = wait_for(lambda: [d for d in deliveries(hubd.port, person, nid) if d["channel"] == "PUSH"
                                and d["status"] == "FAILED"], what="the 410 failure")[0]
        assert row["last_error"] == "gone" and row["attempts"] == 1, row
        assert api(hubd.port, "GET", "/api/v1/push/subscriptions/", token=person["token"])[2]["count"] == 0
        assert psql(f"SELECT count(*) FROM push_subscriptions WHERE id = {int(created['id'])}") == "0"
        # With no subscription left, the next event queues no PUSH at all.
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        item = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=person["token"])[2]
        assert "PUSH" not in item["delivery_method"], item["delivery_method"]

    def retry_after_429_is_honoured():
        person = register_user(hubd.port, "Busy")
        browser = Browser(service, "busy")
        subscribe(hubd.port, person, browser)
        with service.lock:
            service.script.append((429, {"Retry-After": "2"}))
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        requests = wait_for(lambda: browser.to_requests(service) if len(browser.to_requests(service)) >= 2 else None,
                            seconds=30, what="the retry after 429")
        gap = requests[1]["time"] - requests[0]["time"]
        assert gap >= 2.0, f"retried after {gap:.2f} s"
        wait_for(lambda: [d for d in deliveries(hubd.port, person, nid) if d["channel"] == "PUSH"
                          and d["status"] == "DELIVERED"], what="DELIVERED after the retry")
        with service.lock:
            service.script.extend([(400, {}), (413, {})])
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        row = wait_for(lambda: [d for d in deliveries(hubd.port, person, nid) if d["channel"] == "PUSH"
                                and d["status"] == "FAILED"], what="a 400 failure")[0]
        assert "400" in row["last_error"] and row["attempts"] == 1, row
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        row = wait_for(lambda: [d for d in deliveries(hubd.port, person, nid) if d["channel"] == "PUSH"
                                and d["status"] == "FAILED"], what="a 413 failure")[0]
        assert "413" in row["last_error"] and row["attempts"] == 1, row

    def the_push_switch_and_category_switch_apply():
        person = register_user(hubd.port, "Quiet", prefs={"push_enabled": False})
        browser = Browser(service, "off")
        subscribe(hubd.port, person, browser)
        prefs = api(hubd.port, "GET", "/api/v1/notifications/preferences/me/", token=person["token"])[2]
        assert prefs["push_enabled"] is False, prefs
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        item = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=person["token"])[2]
        assert item["delivery_method"] == ["IN_APP"], item["delivery_method"]
        api(hubd.port, "PATCH", "/api/v1/notifications/preferences/me/", {"push_enabled": True,
                                                                           "attendance_notifications": False},
            token=person["token"])
        nid = post(hubd.port, [person["id"]])["notification_ids"][0]
        item = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=person["token"])[2]
        assert item["delivery_method"] == ["IN_APP"], item["delivery_method"]
        time.sleep(0.5)
        assert browser.to_requests(service) == []

    def without_a_vapid_key_push_is_off():
        env = {k: v for k, v in BASE.items() if not k.startswith("HUB_VAPID")}
        with Hubd(**env) as plain:
            status, _, answer = api(plain.port, "GET", "/api/v1/push/vapid-public-key/")
            assert status == 200 and answer == {"public_key": None}, (status, answer)
            person = register_user(plain.port, "NoPush")
            subscription = dict(Browser(service, "x").json, endpoint="https://push.example/x")
            status, _, answer = api(plain.port, "POST", "/api/v1/push/subscriptions/", subscription, token=person["token"])
            assert status == 404 and answer["error_code"] == "PUSH_NOT_CONFIGURED", (status, answer)
            # Without HUB_PUSH_ALLOW_HTTP, loopback and private address literals are refused.
            for host in ("127.0.0.1", "localhost", "10.1.2.3", "192.168.0.9", "[::1]", "169.254.169.254"):
                status, _, answer = api(plain.port, "POST", "/api/v1/push/subscriptions/",
                                        dict(subscription, endpoint=f"https://{host}/x"), token=person["token"])
                assert status == 400 and "endpoint" in answer["details"], (host, status, answer)

    def malformed_vapid_key_refused_at_start():
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        for bad in ["not-a-key", b64(bytes(32)), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]:
            environment.update({"HUB_JWT_SECRET": SECRET, "HUB_PORT": "0", "HUB_VAPID_PRIVATE_KEY": bad,
                                "HUB_VAPID_SUBJECT": "mailto:ops@school.ma"})
            run = subprocess.run([BINARY], env=environment, capture_output=True, text=True, timeout=20)
            assert run.returncode == 2, (run.returncode, run.stderr)
            lines = run.stderr.strip().splitlines()
            assert len(lines) == 1 and "HUB_VAPID_PRIVATE_KEY" in lines[0], run.stderr
        environment.update({"HUB_VAPID_PRIVATE_KEY": b64(os.urandom(31) + b"\x01"), "HUB_VAPID_SUBJECT": "ops@school.ma"})
        run = subprocess.run([BINARY], env=environment, capture_output=True, text=True, timeout=20)
        assert run.returncode == 2 and "HUB_VAPID_SUBJECT" in run.stderr, (run.returncode, run.stderr)

    try:
        checks.run("subscriptions: VAPID key, 201 then 200 for the same endpoint, own list, delete; every bad input "
                   "400 by field", subscription_api_and_every_bad_input)
        checks.run("an Arabic event reaches two subscriptions: http_ece decrypts the JSON, the VAPID JWT verifies "
                   "(aud, exp), TTL/Urgency/Topic, delivery_method has PUSH", arabic_push_decrypts_with_http_ece_and_vapid_verifies)
        checks.run("a 4,000-character Arabic message is shortened to fit 3,993 bytes", a_long_message_is_shortened_never_the_json)
        checks.run("410 deletes the subscription and fails the delivery as gone", gone_410_deletes_the_subscription)
        checks.run("429 with Retry-After: 2 is retried no sooner than 2 s later; 400 and 413 fail at once",
                   retry_after_429_is_honoured)
        checks.run("push_enabled and the category switch turn PUSH off", the_push_switch_and_category_switch_apply)
    finally:
        hubd.stop()
    checks.run("without a VAPID key: public_key is null and a subscription answers 404 PUSH_NOT_CONFIGURED",
               without_a_vapid_key_push_is_off)
    checks.run("hubd refuses a malformed VAPID key (or subject) at start with one line, exit 2",
               malformed_vapid_key_refused_at_start)
    checks.exit()


Browser.to_requests = lambda self, service: service.to(self.path)

if __name__ == "__main__":
    main()
