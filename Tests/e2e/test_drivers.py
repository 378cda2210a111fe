#!/usr/bin/env python3
"""Deliveries leaving the building, through hubd and a real PostgreSQL: email to a real SMTP
server (aiosmtpd: plain, and STARTTLS + AUTH with a verified certificate), Telegram and SMS to
local HTTP servers that record what arrives (500s and timeouts retried, 429 waits retry_after,
403 turns Telegram off), an SMTP outage during 100 notifications (all arrive exactly once), and a
SIGKILL of hubd while sending (every delivery still arrives)."""
import datetime
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import tempfile
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

sys.path.insert(0, os.path.dirname(__file__))
from hubd import (DATABASE_URL, Checks, Hubd, Mailbox, Recorder, api, fail_leftover_deliveries, free_port,  # noqa: E402
                  psql, register_user, unique_tag, wait_for)

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_OUTBOX_RETRY_BASE_MS": 200,
        "HUB_OUTBOX_MAX_ATTEMPTS": 30, "HUB_DELIVERY_TIMEOUT": 2, "HUB_SMTP_FROM": "hub@school.ma"}


class RejectingMailbox(Mailbox):
    """Refuses recipients whose address starts with "nobody" (a permanent 550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"hub" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


def self_signed_cert(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def user(port, name, language="en", prefs=None):
    return register_user(port, name, language=language, prefs=prefs)


def post(port, user_ids, type_="attendance_alert", **data):
    """Every channel at once: `escalation: []` turns off the catalogue's SMS step (test_escalation.py)."""
    payload = {"student_name": "Yasmine", "status": "absent", "subject": "Maths", "class": "1A", "session_date": "today", "session_time": "09:00", **data}
    status, _, answer = api(port, "POST", "/api/v1/events/", {"type": type_, "recipients": {"users": user_ids},
                                                              "data": payload, "escalation": []}, api_key=KEY)
    assert status == 202, answer
    return answer


def main():
    fail_leftover_deliveries()
    workdir = tempfile.mkdtemp()
    cert, key = self_signed_cert(workdir)

    def plain_email_arabic_subject_and_both_parts():
        box = Mailbox()
        smtp = Controller(box, hostname="127.0.0.1", port=free_port())
        smtp.start()
        try:
            with Hubd(**BASE, HUB_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}?starttls=never") as hubd:
                parent = user(hubd.port, "Khadija", "ar", {"email_enabled": True})
                answer = post(hubd.port, [parent["id"]])
                messages = wait_for(lambda: box.to(parent["email"]), what="the email")
                message = email.message_from_bytes(messages[0][1], policy=email.policy.default)
                assert message["Subject"] == "تنبيه الحضور", message["Subject"]
                assert message.get_content_type() == "multipart/alternative"
                parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
                assert set(parts) == {"text/plain", "text/html"}, parts.keys()
                assert "Yasmine" in parts["text/plain"] and 'dir="rtl"' in parts["text/html"]
                assert message["Message-ID"] and message["Date"]
                nid = answer["notification_ids"][0]
                status, _, deliveries = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/deliveries/",
                                            token=parent["token"])
                email_row = next(d for d in deliveries["results"] if d["channel"] == "EMAIL")
                wait_for(lambda: api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=parent["token"])[2]["status"]
                         == "DELIVERED", what="status DELIVERED")
                email_row = next(d for d in api(hubd.port, "GET", f"/api/v1/notifications/{nid}/deliveries/",
                                                token=parent["token"])[2]["results"] if d["channel"] == "EMAIL")
                assert email_row["status"] == "DELIVERED" and email_row["provider_id"], email_row
                import urllib.request
                with urllib.request.urlopen(f"http://127.0.0.1:{hubd.port}/metrics") as response:
                    metrics = response.read().decode()
                assert 'hub_outbox_outcomes_total{channel="EMAIL",outcome="delivered"} 1' in metrics, metrics
                assert "hub_database_up 1" in metrics
        finally:
            smtp.stop()

    def starttls_and_auth_with_a_verified_certificate():
        box = RejectingMailbox()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        smtp = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                          auth_required=True, auth_require_tls=True, authenticator=authenticator)
        smtp.start()
        try:
            url = f"smtp://hub:s3cret@localhost:{smtp.port}?starttls=required&ca_file={cert}"
            with Hubd(**BASE, HUB_SMTP_URL=url) as hubd:
                parent = user(hubd.port, "Fatima", "fr", {"email_enabled": True})
                post(hubd.port, [parent["id"]], "homework_assigned", homework_title="Sourate Al-Mulk", due_date="lundi")
                messages = wait_for(lambda: box.to(parent["email"]), what="the email over STARTTLS")
                assert messages[0][2] is True, "authenticated"
                message = email.message_from_bytes(messages[0][1], policy=email.policy.default)
                assert message["Subject"] == "Nouveau devoir"
                # A 5xx reply (here 550 to RCPT) fails for good, without retries.
                status, _, nobody = api(hubd.port, "POST", "/api/v1/auth/register/", {
                    "email": f"nobody.{unique_tag()}@school.ma", "password": "pass12345"})
                api(hubd.port, "PATCH", "/api/v1/notifications/preferences/me/", {"email_enabled": True},
                    token=nobody["access"])
                answer = post(hubd.port, [nobody["user"]["id"]])
                nid = answer["notification_ids"][0]
                row = wait_for(lambda: [d for d in api(hubd.port, "GET", f"/api/v1/notifications/{nid}/deliveries/",
                                                         token=nobody["access"])[2]["results"]
                                        if d["channel"] == "EMAIL" and d["status"] == "FAILED"], what="a 550 failure")
                assert "550" in row[0]["last_error"] and row[0]["attempts"] == 1, row
                status, _, item = api(hubd.port, "GET", f"/api/v1/notifications/{nid}/", token=nobody["access"])
                assert item["status"] == "FAILED", item["status"]
        finally:
            smtp.stop()

    def telegram_and_sms_over_http():
        telegram, gateway = Recorder(), Recorder()
        telegram.script = [(500, {"ok": False, "description": "Internal"}, 0), (200, {"ok": True}, 3),
                           (429, {"ok": False, "description": "Too Many Requests", "parameters": {"retry_after": 1}}, 0)]
        env = dict(BASE, HUB_TELEGRAM_BOT_TOKEN="123:ABC", HUB_TELEGRAM_API_BASE=f"http://127.0.0.1:{telegram.port}",
                   HUB_SMS_URL=f"http://gw:pw@127.0.0.1:{gateway.port}/sms?format=twilio&from=%2B15550001111")
        with Hubd(**env) as hubd:
            student = user(hubd.port, "Aziz", "en", {"telegram_enabled": True, "telegram_chat_id": "424242",
                                                     "sms_enabled": True, "phone_number": "+998901234567"})
            post(hubd.port, [student["id"]])
            arrived = wait_for(lambda: [r for r in telegram.matching(lambda r: True)] if len(telegram.requests) >= 4 else None,
                               seconds=30, what="telegram retries")
            assert all(r["path"] == "/bot123:ABC/sendMessage" for r in arrived)
            bodies = [json.loads(r["body"]) for r in arrived]
            assert all(b["chat_id"] == "424242" and "Attendance alert" in b["text"] for b in bodies), bodies
            gap = arrived[3]["time"] - arrived[2]["time"]
            assert gap >= 0.95, f"429 retry_after 1 s respected ({gap:.2f} s)"
            sms = wait_for(lambda: gateway.matching(lambda r: r["path"] == "/sms"), what="the SMS")
            form = dict(pair.split("=", 1) for pair in sms[0]["body"].decode().split("&"))
            import urllib.parse
            assert urllib.parse.unquote_plus(form["To"]) == "+998901234567"
            assert urllib.parse.unquote_plus(form["From"]) == "+15550001111"
            assert "Attendance alert" in urllib.parse.unquote_plus(form["Body"])
            import base64
            assert sms[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"gw:pw").decode()
            # 403: the user blocked the bot; fails for good and turns Telegram off, with a reason.
            telegram.script = [(403, {"ok": False, "description": "Forbidden: bot was blocked by the user"}, 0)]
            before = len(telegram.requests)
            post(hubd.port, [student["id"]])
            wait_for(lambda: api(hubd.port, "GET", "/api/v1/notifications/preferences/me/", token=student["token"])[2]
                     ["telegram_enabled"] is False, what="Telegram switched off")
            prefs = api(hubd.port, "GET", "/api/v1/notifications/preferences/me/", token=student["token"])[2]
            assert "403" in prefs["telegram_disabled_reason"], prefs
            time.sleep(1)
            assert len(telegram.requests) == before + 1, "a 403 is not retried"

    def sms_json_webhook():
        gateway = Recorder()
        gateway.script = [(200, {"id": "sms-1"}, 0)]
        with Hubd(**BASE, HUB_SMS_URL=f"http://127.0.0.1:{gateway.port}/hooks/sms") as hubd:
            person = user(hubd.port, "Samir", "ar", {"sms_enabled": True, "phone_number": "+212600000002"})
            post(hubd.port, [person["id"]])
            request = wait_for(lambda: gateway.matching(lambda r: r["path"] == "/hooks/sms"), what="the webhook")[0]
            body = json.loads(request["body"])
            assert body["to"] == "+212600000002" and body["text"].startswith("تنبيه الحضور"), body
            assert request["headers"]["Content-Type"] == "application/json"
            # The HTTP client is non-blocking: slow answers do not hold the next messages back.
            gateway.script = [(200, {"id": f"slow-{i}"}, 0.6) for i in range(6)]
            people = [user(hubd.port, f"S{i}", "en", {"sms_enabled": True, "phone_number": f"+21260000010{i}"})
                      for i in range(6)]
            post(hubd.port, [p["id"] for p in people])
            wait_for(lambda: len(gateway.matching(lambda r: json.loads(r["body"])["to"].startswith("+21260000010"))) >= 6,
                     what="six slow SMS")
            assert gateway.max_in_flight >= 3, f"only {gateway.max_in_flight} SMS requests in flight at once"

    def telegram_over_https_verified_certificate_and_host_name():
        telegram = Recorder(tls=(cert, key))
        base = f"https://localhost:{telegram.port}"
        env = dict(BASE, HUB_TELEGRAM_BOT_TOKEN="77:TLS", HUB_TELEGRAM_API_BASE=base, HUB_TLS_CA_FILE=cert)
        with Hubd(**env) as hubd:
            person = user(hubd.port, "Layla", "ar", {"telegram_enabled": True, "telegram_chat_id": "5150"})
            nid = post(hubd.port, [person["id"]])["notification_ids"][0]
            row = wait_for(lambda: [d for d in api(hubd.port, "GET", f"/api/v1/notifications/{nid}/deliveries/",
                                                     token=person["token"])[2]["results"]
                                    if d["channel"] == "TELEGRAM" and d["status"] == "DELIVERED"], what="delivered over TLS")
            assert row[0]["provider_id"] == "7", row
            body = json.loads(telegram.matching(lambda r: True)[0]["body"])
            assert body["chat_id"] == "5150" and body["text"].startswith("تنبيه الحضور"), body
        # Without the CA the certificate is not trusted; by address the host name does not match it.
        for name, env in [("untrusted", dict(env, HUB_TLS_CA_FILE="")),
                          ("wrong host", dict(env, HUB_TELEGRAM_API_BASE=f"https://127.0.0.1:{telegram.port}"))]:
            env = {k: v for k, v in env.items() if v != ""}
            with Hubd(**env) as hubd:
                person = user(hubd.port, "Omar", "en", {"telegram_enabled": True, "telegram_chat_id": "6160"})
                nid = post(hubd.port, [person["id"]])["notification_ids"][0]
                row = wait_for(lambda: [d for d in api(hubd.port, "GET", f"/api/v1/notifications/{nid}/deliveries/",
                                                         token=person["token"])[2]["results"]
                                        if d["channel"] == "TELEGRAM" and d["status"] == "RETRY"], what=f"{name} refused")
                error = row[0]["last_error"]
                expected = "self-signed certificate" if name == "untrusted" else "hostname mismatch"
                assert "TLS handshake" in error and expected in error, (name, error)
                assert not telegram.matching(lambda r: json.loads(r["body"])["chat_id"] == "6160"), "nothing sent"

    def smtp_outage_then_all_100_exactly_once():
        port = free_port()
        with Hubd(**BASE, HUB_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=never") as hubd:
            people = [user(hubd.port, f"P{i}", "en", {"email_enabled": True}) for i in range(10)]
            for _ in range(10):
                post(hubd.port, [p["id"] for p in people])
            wait_for(lambda: psql("SELECT count(*) FROM deliveries WHERE status = 'RETRY' AND channel = 'EMAIL' "
                                  f"AND user_id IN ({','.join(str(p['id']) for p in people)})") != "0", what="retries")
            box = Mailbox()
            smtp = Controller(box, hostname="127.0.0.1", port=port)
            smtp.start()
            try:
                wanted = {p["email"] for p in people}
                wait_for(lambda: sum(1 for m in box.messages if set(m[0]) & wanted) >= 100, seconds=60, what="100 emails")
                time.sleep(1.5)
                per_user = [len(box.to(p["email"])) for p in people]
                assert per_user == [10] * 10, per_user
                ids = [email.message_from_bytes(m[1])["Message-ID"] for m in box.messages]
                assert len(ids) == len(set(ids)) == 100
            finally:
                smtp.stop()

    def sigkill_while_sending_then_every_delivery_arrives():
        box = Mailbox(delay=0.05)
        smtp = Controller(box, hostname="127.0.0.1", port=free_port())
        smtp.start()
        env = dict(BASE, HUB_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}?starttls=never", HUB_OUTBOX_LEASE_MS=1500)
        try:
            hubd = Hubd(**env)
            people = [user(hubd.port, f"K{i}", "en", {"email_enabled": True}) for i in range(60)]
            post(hubd.port, [p["id"] for p in people])
            wait_for(lambda: len(box.messages) >= 10, what="sending under way")
            hubd.process.send_signal(signal.SIGKILL)
            hubd.process.wait()
            sent_before = len(box.messages)
            assert sent_before < 60, "killed while sending"
            again = Hubd(**env)
            try:
                wanted = [p["email"] for p in people]
                wait_for(lambda: all(box.to(address) for address in wanted), seconds=60, what="every email after restart")
                time.sleep(2)
                duplicates = sum(len(box.to(address)) - 1 for address in wanted)
                print(f"    {sent_before} sent before SIGKILL; all 60 delivered after restart; {duplicates} duplicate(s)")
                assert duplicates <= 2, duplicates
            finally:
                again.stop()
        finally:
            smtp.stop()

    print("[drivers]")
    def sms_daily_cap_drops_non_urgent_past_it():
        gateway = Recorder()
        with Hubd(**BASE, HUB_SMS_URL=f"http://127.0.0.1:{gateway.port}/sms", HUB_SMS_DAILY_CAP_PER_USER=3) as hubd:
            person = user(hubd.port, "Capped", "en", {"sms_enabled": True, "phone_number": "+212600000777"})
            ids = [post(hubd.port, [person["id"]])["notification_ids"][0] for _ in range(5)]
            status, _, urgent = api(hubd.port, "POST", "/api/v1/events/", {
                "type": "system_alert", "priority": "URGENT", "data": {"message": "School closed today"},
                "recipients": {"users": [person["id"]]}, "escalation": []}, api_key=KEY)
            assert status == 202, urgent

            def outcomes():
                rows = [api(hubd.port, "GET", f"/api/v1/notifications/{n}/deliveries/", token=person["token"])[2]
                        for n in ids + urgent["notification_ids"]]
                sms = [next(r for r in row["results"] if r["channel"] == "SMS") for row in rows]
                return None if any(r["status"] in ("PENDING", "SENDING", "RETRY") for r in sms) else sms

            sms = wait_for(outcomes, seconds=20, what="every SMS decided")
            assert [r["status"] for r in sms[:5]].count("DELIVERED") == 3, sms
            assert [(r["status"], r["last_error"]) for r in sms[:5]].count(("CANCELLED", "capped")) == 2, sms
            assert sms[5]["status"] == "DELIVERED", "URGENT goes out past the cap"
            assert len(gateway.matching(lambda r: json.loads(r["body"])["to"] == "+212600000777")) == 4

    checks.run("email to a user who allows it: Arabic subject, text and HTML parts, DELIVERED", plain_email_arabic_subject_and_both_parts)
    checks.run("STARTTLS with a verified certificate and AUTH; a 550 fails for good without retries", starttls_and_auth_with_a_verified_certificate)
    checks.run("Telegram (500 and timeout retried, 429 waits retry_after, 403 turns it off) and Twilio-style SMS", telegram_and_sms_over_http)
    checks.run("SMS as a JSON webhook (Arabic text); slow answers overlap (requests in flight together)", sms_json_webhook)
    checks.run("Telegram over HTTPS: trusted CA delivers; untrusted certificate or wrong host name never sends",
               telegram_over_https_verified_certificate_and_host_name)
    checks.run("SMS daily cap: non-URGENT past it dropped as capped, URGENT sent", sms_daily_cap_drops_non_urgent_past_it)
    checks.run("SMTP down during 100 notifications: all 100 arrive exactly once", smtp_outage_then_all_100_exactly_once)
    checks.run("SIGKILL while sending, restart: every delivery arrives", sigkill_while_sending_then_every_delivery_arrives)
    checks.exit()


if __name__ == "__main__":
    main()
