#!/usr/bin/env python3
"""The operator console (/admin/) in headless Chromium against hubd, a real PostgreSQL and a real
SMTP server (aiosmtpd): a staff sign-in sees the session count rise when a second browser
connects; an email that failed (the SMTP server was down) is retried from its button and arrives;
a webhook message is replayed from its button; a non-staff user is refused, in the page and by
the API. Saves a screenshot to docs/admin.png."""
import os
import sys
import tempfile
import uuid

from aiosmtpd.controller import Controller
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from hubd import (DATABASE_URL, Checks, Hubd, Mailbox, Recorder, api, fail_leftover_deliveries, free_port,  # noqa: E402
                  register_user, wait_for)
from chromium import browser, sign_in  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "..", "..", "docs", "admin.png")
KEY = "svc-" + uuid.uuid4().hex
checks = Checks()


def main():
    fail_leftover_deliveries()
    workdir = tempfile.mkdtemp()
    password = uuid.uuid4().hex
    with open(os.path.join(workdir, "admin-password"), "w") as f:
        f.write(password)
    admin_email = f"ops-{uuid.uuid4().hex[:6]}@school.ma"
    smtp_port = free_port()
    env = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_ADMIN_EMAIL": admin_email,
           "HUB_ADMIN_PASSWORD_FILE": os.path.join(workdir, "admin-password"), "HUB_RATE_LIMIT_LOGIN": 100000,
           "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_SMTP_FROM": "hub@school.ma",
           "HUB_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=never", "HUB_OUTBOX_MAX_ATTEMPTS": 1,
           "HUB_DELIVERY_TIMEOUT": 2, "HUB_WEBHOOK_ALLOW_HTTP": 1, "HUB_WEBHOOK_ALLOW_PRIVATE": 1}
    box = Mailbox()
    smtp = None
    with Hubd(**env) as hubd:
        port = hubd.port
        console, visitor = browser(), None
        try:
            def staff_sees_the_session_count_rise():
                nonlocal visitor
                sign_in(console, port, admin_email, password, page="/admin/")
                WebDriverWait(console, 10).until(lambda d: d.find_element(By.ID, "sessions").is_displayed())
                before = int(console.find_element(By.ID, "sessions").text)
                visitor = browser()
                sign_in(visitor, port, register_user(port, "Visitor")["email"])
                WebDriverWait(console, 10).until(lambda d: int(d.find_element(By.ID, "sessions").text) == before + 1)

            def failed_email_is_retried_from_its_button():
                nonlocal smtp
                person = register_user(port, "Mailed", prefs={"email_enabled": True})
                status, _, answer = api(port, "POST", "/api/v1/events/", {
                    "type": "system_alert", "title": "Report cards", "message": "Report cards are out",
                    "recipients": {"users": [person["id"]]}}, api_key=KEY)
                assert status == 202, answer
                notification = answer["notification_ids"][0]

                def failed_row():
                    rows = api(port, "GET", "/api/v1/admin/deliveries/?status=FAILED", api_key=KEY)[2]["results"]
                    return next((r for r in rows if r["notification_id"] == notification), None)

                row = wait_for(failed_row, seconds=20, what="the email failed (SMTP down)")
                assert row["last_error"], row
                smtp = Controller(box, hostname="127.0.0.1", port=smtp_port)
                smtp.start()
                retry = WebDriverWait(console, 10).until(
                    lambda d: d.find_element(By.CSS_SELECTOR, f"button.retry[data-id='{row['id']}']"))
                retry.click()
                wait_for(lambda: box.to(person["email"]), seconds=20, what="the retried email")
                console.save_screenshot(SCREENSHOT)

            def webhook_message_replayed_from_its_button():
                receiver = Recorder()
                status, _, endpoint = api(port, "POST", "/api/v1/webhooks/endpoints/", {
                    "url": f"http://127.0.0.1:{receiver.port}/hooks", "event_types": ["enrollment.created"]}, api_key=KEY)
                assert status == 201, endpoint
                status, _, answer = api(port, "POST", "/api/v1/events/", {
                    "type": "enrollment.created", "data": {"course": "Tajweed 1"}}, api_key=KEY)
                assert status == 202, answer
                first = wait_for(lambda: receiver.matching(lambda r: r["path"] == "/hooks"), seconds=15, what="the webhook")
                message = api(port, "GET", f"/api/v1/webhooks/endpoints/{endpoint['id']}/deliveries/", api_key=KEY)[2]["results"][0]
                # Its own button: endpoints of other suites may share the panel.
                replay = WebDriverWait(console, 15).until(
                    lambda d: d.find_element(By.CSS_SELECTOR, f"#webhooks button.replay[data-id='{message['id']}']"))
                replay.click()
                both = wait_for(lambda: (lambda got: got if len(got) >= 2 else None)(
                    receiver.matching(lambda r: r["path"] == "/hooks")), seconds=15, what="the replayed message")
                ids = {r["headers"]["webhook-id"] for r in both}
                assert len(ids) == 1 and first[0]["body"] == both[1]["body"], "a replay is the same message"

            def non_staff_is_refused():
                student = register_user(port, "Student")
                status, _, _ = api(port, "GET", "/api/v1/admin/overview/", token=student["token"])
                assert status == 403
                status, _, _ = api(port, "POST", "/api/v1/admin/deliveries/1/retry/", token=student["token"])
                assert status == 403
                page = browser()
                try:
                    sign_in(page, port, student["email"], page="/admin/")
                    WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "login-error").text == "Staff only.")
                    assert not page.find_element(By.ID, "sessions").is_displayed()
                finally:
                    page.quit()

            def bad_actions_answer_clearly():
                status, _, answer = api(port, "POST", "/api/v1/admin/deliveries/999999999/retry/", api_key=KEY)
                assert status == 404, answer
                status, _, answer = api(port, "GET", "/api/v1/admin/deliveries/?status=LOST", api_key=KEY)
                assert status == 400 and list(answer["details"]) == ["status"], answer
                delivered = api(port, "GET", "/api/v1/admin/deliveries/?status=DELIVERED", api_key=KEY)[2]["results"]
                if delivered:
                    status, _, answer = api(port, "POST", f"/api/v1/admin/deliveries/{delivered[0]['id']}/retry/", api_key=KEY)
                    assert status == 409, answer

            checks.run("staff: the session count rises when a second browser connects", staff_sees_the_session_count_rise)
            checks.run("a failed email is retried from its button and arrives", failed_email_is_retried_from_its_button)
            checks.run("a webhook message is replayed from its button (same id, same body)",
                       webhook_message_replayed_from_its_button)
            checks.run("a non-staff user is refused by the page and the API", non_staff_is_refused)
            checks.run("unknown delivery 404, bad status 400, retrying a delivered one 409", bad_actions_answer_clearly)
        finally:
            console.quit()
            if visitor:
                visitor.quit()
            if smtp:
                smtp.stop()
    checks.exit()


if __name__ == "__main__":
    main()
