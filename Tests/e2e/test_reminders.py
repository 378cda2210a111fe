#!/usr/bin/env python3
"""Recurring reminders through hubd and a real PostgreSQL: a daily rule due in 3 s reaches every
recipient's session whose clock says so (UTC and London now, not Tashkent); a Halaka schedule
with a skipped session sends `halaka_session_cancelled` with the reason instead, and the schedule
runs a session longer; GET / PATCH / DELETE, unskip, cancellation by key; and bad rules answered
400 by field."""
import asyncio
import datetime
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, register_user, session_pushes  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex
BASE = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": KEY, "HUB_RATE_LIMIT_LOGIN": 100000,
        "HUB_RATE_LIMIT_ANON": 100000, "HUB_RATE_LIMIT_USER": 100000}


def clock_in(seconds, zone_offset_hours=0):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds, hours=zone_offset_hours)
    return moment.strftime("%H:%M:%S"), moment.strftime("%Y-%m-%d")


def shown(at):
    """A time as the hub writes it in messages: HH:MM when the seconds are zero (LocalDate)."""
    return at[:5] if at.endswith(":00") else at


def create(port, body):
    status, _, answer = api(port, "POST", "/api/v1/reminders/", body, api_key=KEY)
    assert status == 201, (status, answer)
    return answer


async def collect(port, users, seconds):
    """What each user's session receives within `seconds`: {user id: [(type, message)]}."""
    pushes = await asyncio.gather(*(session_pushes(port, user, seconds) for user in users))
    return {user["id"]: [(type_, data["message"]) for type_, data, _ in got] for user, got in zip(users, pushes)}


def main():
    with Hubd(**BASE) as hubd:
        port = hubd.port

        def daily_rule_reaches_each_recipient_on_their_own_clock():
            utc_user = register_user(port, "Amina")
            london = register_user(port, "Omar", prefs={"timezone": "Europe/London"})
            tashkent = register_user(port, "Aziz", prefs={"timezone": "Asia/Tashkent"})
            at, today = clock_in(3)
            reminder = create(port, {"type": "session_upcoming", "data": {"halaka_name": "Tajweed"},
                                     "recipients": {"users": [utc_user["id"], london["id"], tashkent["id"]]},
                                     "rule": {"daily": at}})
            assert reminder["next_at"] is not None and reminder["active"] is True, reminder
            received = asyncio.run(collect(port, [utc_user, london, tashkent], 7))
            expected = [("session_upcoming", f"Tajweed starts {today} at {shown(at)}.")]
            assert received[utc_user["id"]] == expected, received
            assert received[london["id"]] == expected, received
            assert received[tashkent["id"]] == [], "17:00 in UTC is not 17:00 in Tashkent"
            status, _, again = api(port, "GET", f"/api/v1/reminders/{reminder['id']}/", api_key=KEY)
            assert status == 200 and again["next_at"] > reminder["next_at"], (reminder["next_at"], again["next_at"])

        def a_skipped_halaka_session_becomes_a_cancellation_notice():
            student = register_user(port, "Student")
            at, today = clock_in(4)
            end = (datetime.date.fromisoformat(today) + datetime.timedelta(days=6)).isoformat()
            reminder = create(port, {
                "type": "session_upcoming", "data": {"halaka_name": "Hifz"}, "recipients": {"users": [student["id"]]},
                "rule": {"frequency": "daily", "startTime": at, "duration": 60, "startDate": f"{today}T00:00:00.000Z",
                         "endDate": f"{end}T00:00:00.000Z", "timezone": "UTC", "before_minutes": 0}})
            assert reminder["end_date"] == end
            status, _, skipped = api(port, "POST", f"/api/v1/reminders/{reminder['id']}/skip/",
                                     {"sessionDate": f"{today}T00:00:00.000Z", "reason": "Emergency leave"}, api_key=KEY)
            assert status == 200 and skipped["skipped"] == [{"date": today, "reason": "Emergency leave"}], skipped
            extended = (datetime.date.fromisoformat(end) + datetime.timedelta(days=1)).isoformat()
            assert skipped["end_date"] == extended, "a cancelled session extends the schedule by one session"
            received = asyncio.run(collect(port, [student], 7))[student["id"]]
            assert received == [("halaka_session_cancelled",
                                 f"The Hifz session on {today} at {shown(at)} will not take place. Emergency leave")], received
            status, _, restored = api(port, "POST", f"/api/v1/reminders/{reminder['id']}/unskip/", {"date": today},
                                      api_key=KEY)
            assert status == 200 and restored["skipped"] == [] and restored["end_date"] == end, restored

        def get_patch_delete_and_cancel_by_key():
            student = register_user(port, "Student")
            key = "khatma-" + uuid.uuid4().hex[:6]
            reminder = create(port, {"type": "daily_reminder", "recipients": {"users": [student["id"]]},
                                     "data": {"khatma_name": "Ramadan"}, "rule": {"daily": "20:00"},
                                     "cancellation_key": key})
            status, _, listed = api(port, "GET", "/api/v1/reminders/", api_key=KEY)
            assert status == 200 and reminder["id"] in [r["id"] for r in listed["results"]]
            status, _, patched = api(port, "PATCH", f"/api/v1/reminders/{reminder['id']}/",
                                     {"rule": {"weekly": {"days": ["friday"], "at": "05:30"}, "timezone": "Africa/Cairo"}},
                                     api_key=KEY)
            assert status == 200 and patched["rule"]["weekly"]["at"] == "05:30", patched
            assert patched["event"]["data"] == {"khatma_name": "Ramadan"} and patched["cancellation_key"] == key
            status, _, bad = api(port, "PATCH", f"/api/v1/reminders/{reminder['id']}/", {"rule": {"daily": "5pm"}},
                                 api_key=KEY)
            assert status == 400 and list(bad["details"]) == ["rule.daily"], bad
            status, _, answer = api(port, "POST", "/api/v1/events/cancel/", {"cancellation_key": key}, api_key=KEY)
            assert answer == {"cancelled": 0, "reminders_stopped": 1}, answer
            status, _, stopped = api(port, "GET", f"/api/v1/reminders/{reminder['id']}/", api_key=KEY)
            assert stopped["active"] is False and stopped["next_at"] is None, stopped
            status, _, _ = api(port, "DELETE", f"/api/v1/reminders/{reminder['id']}/", api_key=KEY)
            assert status == 204
            status, _, _ = api(port, "GET", f"/api/v1/reminders/{reminder['id']}/", api_key=KEY)
            assert status == 404
            status, _, _ = api(port, "GET", "/api/v1/reminders/", token=student["token"])
            assert status == 403, "students cannot manage reminders"

        def bad_rules_answer_400_by_field():
            student = register_user(port, "Student")
            base = {"type": "session_upcoming", "recipients": {"users": [student["id"]]}, "data": {"halaka_name": "H"}}
            halaka = {"frequency": "weekly", "days": ["monday"], "startTime": "17:00", "duration": 60,
                      "startDate": "2026-01-01", "endDate": "2026-03-01"}
            cases = [
                ({"rule": {"hourly": 2}}, ["rule"]),
                ({}, ["rule"]),
                ({"rule": {**halaka, "startTime": "5 pm"}}, ["rule.startTime"]),
                ({"rule": {**halaka, "endDate": "2025-12-01"}}, ["rule.endDate"]),
                ({"rule": {"daily": "20:00", "timezone": "Asia/Atlantis"}}, ["rule.timezone"]),
                ({"rule": {**halaka, "timezone": "Mars/Base"}}, ["rule.timezone"]),
                ({"rule": {"weekly": {"days": [], "at": "17:00"}}}, ["rule.weekly.days"]),
                ({"rule": {"daily": "20:00"}, "recipients": {"all": True}}, ["recipients.all"]),
                ({"rule": {"daily": "20:00"}, "send_at": "2026-01-01T00:00:00Z"}, ["send_at"]),
                ({"rule": {"daily": "20:00"}, "type": "no_such_type"}, ["type"]),
            ]
            for extra, fields in cases:
                status, _, answer = api(port, "POST", "/api/v1/reminders/", {**base, **extra}, api_key=KEY)
                assert status == 400 and sorted(answer["details"]) == fields, (extra, status, answer)
            reminder = create(port, {**base, "rule": {"daily": "20:00"}})
            status, _, answer = api(port, "POST", f"/api/v1/reminders/{reminder['id']}/skip/", {"date": "tomorrow"},
                                    api_key=KEY)
            assert status == 400 and list(answer["details"]) == ["date"], answer

        checks.run("daily rule: every recipient on their own clock", daily_rule_reaches_each_recipient_on_their_own_clock)
        checks.run("a skipped Halaka session: halaka_session_cancelled with the reason",
                   a_skipped_halaka_session_becomes_a_cancellation_notice)
        checks.run("GET, PATCH, DELETE, cancel by key", get_patch_delete_and_cancel_by_key)
        checks.run("bad rules: 400 by field", bad_rules_answer_400_by_field)
    checks.exit()


if __name__ == "__main__":
    main()
