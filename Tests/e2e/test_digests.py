#!/usr/bin/env python3
"""Email digests through hubd, a real PostgreSQL and a real SMTP server (aiosmtpd), with the
window shortened (`HUB_DIGEST_WINDOW_SECONDS`): five notifications of a user with
`email_digest: hourly` make one email listing five titles, while an URGENT one is sent at once on
its own; the preferences' digest fields and their bad values; parents' weekly attendance summary,
built from the hub's own data at their digest day and time, once."""
import datetime
import email
import email.policy
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(__file__))
from hubd import (DATABASE_URL, Checks, Hubd, Mailbox, api, fail_leftover_deliveries, free_port,  # noqa: E402
                  psql, register_user, wait_for)

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
WINDOW = 6


def text_of(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return message["Subject"], body.get_content() if body else ""


def main():
    fail_leftover_deliveries()
    box = Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
           "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000, "HUB_SMTP_FROM": "hub@school.ma",
           "HUB_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?starttls=never", "HUB_DIGEST_WINDOW_SECONDS": WINDOW}
    try:
        with Hubd(**env) as hubd:
            port = hubd.port

            def post(person, title, priority="MEDIUM", category="homework"):
                status, _, answer = api(port, "POST", "/api/v1/events/", {
                    "type": "homework_assigned", "title": title, "message": f"{title}: details", "priority": priority,
                    "category": category, "recipients": {"users": [person["id"]]}}, api_key=KEY)
                assert status == 202, answer
                return answer["notification_ids"][0]

            def five_notifications_make_one_email_and_urgent_goes_at_once():
                # Start just after a window boundary, so the five land in one window.
                time.sleep(WINDOW - time.time() % WINDOW + 0.2)
                person = register_user(port, "Digest", prefs={"email_enabled": True, "email_digest": "hourly"})
                titles = [f"Homework {i}" for i in range(1, 6)]
                first = post(person, titles[0])
                for title in titles[1:4]:
                    post(person, title)
                post(person, titles[4], category="grades")
                status, _, rows = api(port, "GET", f"/api/v1/notifications/{first}/deliveries/", token=person["token"])
                held = next(r for r in rows["results"] if r["channel"] == "EMAIL")
                assert held["status"] == "PENDING", held
                post(person, "School closed today", priority="URGENT", category="system")
                urgent = wait_for(lambda: box.to(person["email"]), seconds=WINDOW - 1, what="the URGENT email at once")
                assert len(urgent) == 1 and text_of(urgent[0][1])[0] == "School closed today", urgent
                mails = wait_for(lambda: box.to(person["email"]) if len(box.to(person["email"])) >= 2 else None,
                                 seconds=WINDOW + 10, what="the digest")
                time.sleep(1.5)
                mails = box.to(person["email"])
                assert len(mails) == 2, f"{len(mails)} emails: the five must make one"
                subject, body = text_of(mails[1][1])
                assert subject == "Your digest: 5 notifications", subject
                for title in titles:
                    assert f"• {title}" in body, body
                assert "- homework: 4" in body and "- grades: 1" in body, body
                assert body.index("Homework 5") < body.index("Homework 1"), "newest first"
                status, _, rows = api(port, "GET", f"/api/v1/notifications/{first}/deliveries/", token=person["token"])
                assert next(r for r in rows["results"] if r["channel"] == "EMAIL")["status"] == "DELIVERED"

            def high_is_never_held_and_off_means_at_once():
                person = register_user(port, "High", prefs={"email_enabled": True, "email_digest": "daily"})
                post(person, "Exam moved", priority="HIGH")
                assert wait_for(lambda: box.to(person["email"]), seconds=5, what="the HIGH email at once")
                plain = register_user(port, "Plain", prefs={"email_enabled": True})
                post(plain, "Homework 9")
                assert wait_for(lambda: box.to(plain["email"]), seconds=5, what="an email without a digest")

            def digest_preferences_and_bad_values():
                person = register_user(port, "Prefs")
                status, _, prefs = api(port, "GET", "/api/v1/notifications/preferences/me/", token=person["token"])
                assert (prefs["email_digest"], prefs["telegram_digest"], prefs["digest_time"], prefs["digest_day"]) == \
                    ("off", "off", "18:00", "sunday"), prefs
                status, _, saved = api(port, "PATCH", "/api/v1/notifications/preferences/me/", {
                    "telegram_digest": "weekly", "digest_day": "friday", "digest_time": "07:30"}, token=person["token"])
                assert status == 200 and (saved["telegram_digest"], saved["digest_day"], saved["digest_time"]) == \
                    ("weekly", "friday", "07:30"), saved
                status, _, answer = api(port, "PATCH", "/api/v1/notifications/preferences/me/", {
                    "email_digest": "sometimes", "digest_day": "funday", "digest_time": "25:00"}, token=person["token"])
                assert status == 400 and sorted(answer["details"]) == ["digest_day", "digest_time", "email_digest"], answer

            def weekly_attendance_summary_for_parents():
                now = datetime.datetime.now(datetime.timezone.utc)
                parent = register_user(port, "Khadija", role="PARENT", prefs={
                    "digest_day": now.strftime("%A").lower(), "digest_time": (now - datetime.timedelta(minutes=1)).strftime("%H:%M")})
                child = register_user(port, "Yasmine")
                status, _, _ = api(port, "POST", f"/api/v1/users/{child['id']}/guardians/", {"parent": parent["id"]}, api_key=KEY)
                assert status in (200, 201)
                for type_, recipients in [("ABSENCE_ALERT", {"guardians_of": [child["id"]]}),
                                          ("LATE_ALERT", {"users": [child["id"]]})]:
                    status, _, answer = api(port, "POST", "/api/v1/events/", {
                        "type": type_, "recipients": recipients,
                        "data": {"student_name": "Yasmine", "session": "Maths", "minutes": 10}}, api_key=KEY)
                    assert status == 202, answer
                # The summary of the week that ended a minute ago: these two came after it, so none counted;
                # pushed back a week they count (the database is the hub's own data).
                psql(f"UPDATE notifications SET created_at = now() - interval '2 days' WHERE recipient_id IN "
                     f"({parent['id']}, {child['id']}) AND category = 'attendance'")

                def summaries():
                    status, _, page = api(port, "GET", "/api/v1/notifications/?notification_type=attendance_summary", token=parent["token"])
                    return page["results"] if page["results"] else None

                found = wait_for(summaries, seconds=25, what="the weekly attendance summary")
                assert len(found) == 1, found
                assert "1 absence(s), 1 late arrival(s), 2 attendance notification(s)" in found[0]["message"], found[0]
                time.sleep(11)
                assert len(summaries()) == 1, "the summary is sent once"

            checks.run("five notifications: one digest email; URGENT at once on its own",
                       five_notifications_make_one_email_and_urgent_goes_at_once)
            checks.run("HIGH is never held; no digest means at once", high_is_never_held_and_off_means_at_once)
            checks.run("digest preferences and their bad values", digest_preferences_and_bad_values)
            checks.run("weekly attendance summary for parents, once", weekly_attendance_summary_for_parents)
    finally:
        smtp.stop()
    checks.exit()


if __name__ == "__main__":
    main()
