#!/usr/bin/env python3
"""Each seed's front end, unchanged, against a real hubd: the documented notification and auth
flows of ../shared/seeds/ replayed with their exact paths and bodies, and the answers checked
field by field against the shapes the documents show (Khatma 000, Halaka 001, TuranTalim 002,
Madrasti 003, the course platform 004). Independent judges: Django's own password validators
and djangorestframework-simplejwt, which mints a token pair the hub must accept (REST and
socket) and reads the hub's tokens back."""
import asyncio
import json
import os
import sys
import urllib.parse
import uuid

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, SECRET, Checks, Hubd, api, register_user as register  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex


def django_judges():
    """Django configured as a seed backend would be: simplejwt with the hub's secret, default validators."""
    import django
    from django.conf import settings
    if not settings.configured:
        settings.configure(SECRET_KEY="seed-backend-" + "x" * 40, USE_TZ=True, DATABASES={},
                           INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                                           "rest_framework_simplejwt"],
                           SIMPLE_JWT={"SIGNING_KEY": SECRET, "ALGORITHM": "HS256"})
        django.setup()


def unique(name):
    return f"{name}.{uuid.uuid4().hex[:8]}@example.com"


def shape(body, expected, where=""):
    """Every documented field is present with the documented JSON type (None: any, including null)."""
    for name, kind in expected.items():
        assert name in body, f"{where}: {name} missing from {sorted(body)}"
        if kind is not None:
            assert isinstance(body[name], kind) and not (kind is int and isinstance(body[name], bool)), \
                f"{where}: {name} = {body[name]!r} is not {kind}"


ERROR = {"error": str, "error_code": str, "timestamp": str, "details": dict, "detail": str, "code": str,
         "success": bool, "message": str}
DRF_PAGE = {"count": int, "next": None, "previous": None, "results": list}


def post_event(port, body):
    status, _, answer = api(port, "POST", "/api/v1/events/", body, api_key=KEY)
    assert status == 202, (status, answer)
    return answer


def follow(port, url, token):
    """GETs an absolute `next`/`previous` link as a browser would."""
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "http" and parts.netloc, url
    return api(port, "GET", parts.path + "?" + parts.query, token=token)


async def socket(port, path, first=None, headers=None):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}{path}", extra_headers=headers or {})
    if first:
        await ws.send(json.dumps(first))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == "connected":
            return ws, message


async def next_push(ws, kind):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == kind:
            return message


def main():
    django_judges()
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_CORS_ORIGINS="http://localhost:3000,https://turantalim.com") as hubd:
        port = hubd.port
        admin = register(port, "Admin", role="ADMIN")

        def khatma():
            # 000: POST /auth/register/, /auth/login/, /notifications/, PATCH {id}/read/, mark-all-read/.
            email = unique("john")
            body = {"fullname": "John Doe", "email": email, "password": "securepassword123", "gender": "male",
                    "phone": "+1234567890"}
            status, _, user = api(port, "POST", "/api/auth/register/", body)
            assert status == 201, (status, user)
            shape(user, {"id": int, "fullname": str, "email": str, "gender": str, "phone": str}, "register")
            assert (user["fullname"], user["email"], user["gender"], user["phone"]) == ("John Doe", email, "male", "+1234567890")
            status, _, login = api(port, "POST", "/api/auth/login/", {"email": email, "password": "securepassword123"})
            assert status == 200, login
            shape(login, {"access": str, "refresh": str, "user": dict}, "login")
            shape(login["user"], {"id": int, "fullname": str, "email": str}, "login.user")
            token = login["access"]
            for n in range(3):
                post_event(port, {"type": "khatma_invitation", "recipients": {"users": [user["id"]]},
                                  "data": {"inviter_name": "John Doe", "khatma_name": f"Ramadan Khatma {n}",
                                           "related_khatma": n + 1, "related_khatma_name": f"Ramadan Khatma {n}"}})
            status, _, page = api(port, "GET", "/api/notifications/?page_size=2&notification_type=khatma_invitation",
                                  token=token)
            assert status == 200, page
            shape(page, DRF_PAGE, "list")
            item = page["results"][0]
            shape(item, {"id": int, "notification_type": str, "notification_display": str, "title": str, "message": str,
                         "is_read": bool, "related_khatma": int, "related_khatma_name": str, "created_at": str}, "item")
            assert item["notification_display"] == "Khatma Invitation" and item["related_khatma"] == 3, item
            assert item["related_khatma_name"] == "Ramadan Khatma 2" and "{" not in item["message"], item
            # next is absolute and keeps the filter: following it gives the rest of the same list.
            status, _, second = follow(port, page["next"], token)
            assert status == 200 and [n["related_khatma"] for n in second["results"]] == [1], second
            assert second["next"] is None and "notification_type=khatma_invitation" in second["previous"], second
            # Every kept query value is percent-encoded: a search with a space, '&', '=' and Arabic survives.
            post_event(port, {"type": "khatma_invitation", "recipients": {"users": [user["id"]]},
                              "title": "ختمة A&B=1", "message": "first"})
            post_event(port, {"type": "khatma_invitation", "recipients": {"users": [user["id"]]},
                              "title": "ختمة A&B=1", "message": "second"})
            search = urllib.parse.quote("ختمة A&B=1")
            status, _, first = api(port, "GET", f"/api/notifications/?search={search}&page_size=1", token=token)
            assert first["count"] == 2 and "search=%D8%AE%D8%AA%D9%85%D8%A9%20A%26B%3D1" in first["next"], first["next"]
            status, _, rest = follow(port, first["next"], token)
            assert rest["count"] == 2 and [n["message"] for n in first["results"] + rest["results"]] == ["second", "first"]
            status, _, _ = api(port, "PATCH", f"/api/notifications/{item['id']}/read/", token=token)
            assert status == 200
            status, _, _ = api(port, "PATCH", "/api/notifications/mark-all-read/", token=token)
            assert status == 200
            status, _, left = api(port, "GET", "/api/notifications/?is_read=false", token=token)
            assert left["count"] == 0, left
            status, _, bad = api(port, "POST", "/api/auth/register/", {"fullname": "X", "email": unique("x"),
                                                                      "password": "short"})
            assert status == 400 and "password" in bad["details"], bad
            shape(bad, ERROR, "error")

        def turantalim():
            # 002: an admin creates a teacher (its exact body: "secure_password", language "uz"),
            # who logs in by username, refreshes twice with one refresh token, saves the ten switches.
            username = "teacher_" + uuid.uuid4().hex[:6]
            body = {"username": username, "email": unique("teacher"), "first_name": "Ali", "last_name": "Karimov",
                    "phone_number": "+998901234567", "password": "secure_password", "confirm_password": "secure_password",
                    "language": "uz"}
            status, _, created = api(port, "POST", "/api/v1/auth/register/teacher/", body, token=admin["access"])
            assert status == 201 and created["role"] == "TEACHER" and created["language"] == "uz", (status, created)
            status, _, anonymous = api(port, "POST", "/api/v1/auth/register/teacher/", dict(body, username=username + "x",
                                                                                           email=unique("t")))
            assert status == 403, "teachers are created by staff only"
            status, _, tokens = api(port, "POST", "/api/v1/auth/login/", {"username": username, "password": "secure_password"})
            assert status == 200, tokens
            shape(tokens, {"access": str, "refresh": str}, "login")
            for _ in range(2):
                status, _, fresh = api(port, "POST", "/api/v1/auth/refresh/", {"refresh": tokens["refresh"]})
                assert status == 200 and set(fresh) == {"access"}, (status, fresh)
            status, _, me = api(port, "GET", "/api/v1/auth/users/me/", token=fresh["access"])
            assert status == 200 and me["username"] == username, me
            status, _, before = api(port, "PATCH", "/api/v1/notifications/preferences/me/",
                                    {"language": "uz", "quiet_hours_enabled": True, "timezone": "Asia/Tashkent"},
                                    token=fresh["access"])
            assert status == 200, before
            switches = {"telegram_enabled": True, "sms_enabled": True, "email_enabled": True,
                        "telegram_chat_id": "123456789", "phone_number": "+998901234567",
                        "payment_notifications": True, "homework_notifications": True, "lesson_notifications": True,
                        "attendance_notifications": True, "gamification_notifications": True}
            status, _, saved = api(port, "PUT", "/api/v1/notifications/preferences/me/", switches, token=fresh["access"])
            assert status == 200, saved
            assert saved["language"] == "uz" and saved["quiet_hours_enabled"] is True, "PUT keeps what it does not carry"
            post_event(port, {"type": "homework_assigned", "recipients": {"users": [created["id"]]},
                              "data": {"homework_title": "Unit 3", "due_date": "Friday"}})
            status, _, page = api(port, "GET", "/api/v1/notifications/", token=fresh["access"])
            shape(page, DRF_PAGE, "list")
            nid = page["results"][0]["id"]
            status, _, read = api(port, "POST", f"/api/v1/notifications/{nid}/mark-read/", token=fresh["access"])
            assert status == 200 and read["is_read"] is True, read
            asyncio.run(turantalim_socket(created["id"], fresh["access"]))

        async def turantalim_socket(user_id, access):
            # `new WebSocket("ws://localhost:8000/ws/notifications/")`: no token in the URL; the browser
            # sends the access_token cookie, honoured for an allowed Origin only.
            cookie = {"Cookie": f"theme=dark; access_token={access}", "Origin": "http://localhost:3000"}
            ws, hello = await socket(port, "/ws/notifications/", headers=cookie)
            assert hello["data"]["user_id"] == user_id, hello
            post_event(port, {"type": "lesson_cancelled", "recipients": {"users": [user_id]},
                              "data": {"group_name": "Turkish A1", "date": "Monday"}})
            push = await next_push(ws, "lesson_cancelled")
            assert push["data"]["group_name"] == "Turkish A1", push
            await ws.close()
            try:
                await websockets.connect(f"ws://127.0.0.1:{port}/ws/notifications/",
                                         extra_headers={"Cookie": f"access_token={access}", "Origin": "https://evil.example"})
                raise AssertionError("a foreign page rode the cookie")
            except websockets.exceptions.InvalidStatusCode as refused:
                assert refused.status_code == 403

        async def madrasti_socket(parent, student_id):
            # 003 "Real-time Features": /ws/notifications/{user_id}/ with the Bearer header; data is the payload.
            ws, hello = await socket(port, f"/ws/notifications/{parent['id']}/",
                                     headers={"Authorization": "Bearer " + parent["access"]})
            shape(hello["data"], {"unread_count": int, "unseen_count": int}, "connected")
            examples = {
                "attendance_alert": {"student_id": student_id, "student_name": "Sara Alami", "class": "1ère Année A",
                                     "subject": "Mathématiques", "session_date": "2024-01-15", "session_time": "09:00",
                                     "status": "absent", "flag_created": True, "priority": "medium"},
                "grade_published": {"homework_id": 25, "homework_title": "Math Quiz 1", "student_id": student_id,
                                    "score": 85.0, "score_percentage": 85.0, "points_earned": 42, "feedback_available": True},
                "badge_earned": {"student_id": student_id, "badge_id": 5, "badge_name": "Math Champion", "badge_icon": "🏆",
                                 "points_awarded": 100, "rarity": "EPIC"},
                "system_alert": {"alert_type": "maintenance", "title": "System Maintenance",
                                 "message": "System will be down for maintenance at 23:00", "priority": "high",
                                 "expires_at": "2999-01-15T23:00:00Z"},
            }
            for kind, data in examples.items():
                post_event(port, {"type": kind, "recipients": {"users": [parent["id"]]}, "data": data})
                push = await next_push(ws, kind)
                shape(push, {"type": str, "timestamp": str, "data": dict}, kind)
                for name, value in data.items():
                    assert push["data"][name] == value, (kind, name, push["data"])
                note = push["data"]["notification"]
                assert "{" not in note["title"] + note["message"], note
                assert push["id"] == note["id"], "the top-level id stays the resume cursor"
            await ws.send(json.dumps({"type": "heartbeat"}))
            assert (await next_push(ws, "heartbeat_ack"))["type"] == "heartbeat_ack"
            await ws.close()

        def madrasti():
            # 003: register (its body), login (permissions), token refresh/verify, profile, change password.
            email = unique("sara")
            body = {"email": email, "password": "securePass123", "password_confirm": "securePass123", "first_name": "Sara",
                    "last_name": "Alami", "role": "STUDENT", "phone": "+212612345678", "date_of_birth": "2008-05-15"}
            status, _, student = api(port, "POST", "/api/users/register/", body)
            assert status == 201, (status, student)
            shape(student, {"id": int, "email": str, "first_name": str, "last_name": str, "full_name": str, "role": str,
                            "phone": str, "is_active": bool, "created_at": str}, "register")
            assert student["full_name"] == "Sara Alami" and student["role"] == "STUDENT"
            status, _, refused = api(port, "POST", "/api/users/register/", dict(body, email=unique("t"), role="TEACHER"))
            assert status == 403, "only staff create teachers (the permission matrix)"
            status, _, mismatch = api(port, "POST", "/api/users/register/", dict(body, email=unique("m"),
                                                                               password_confirm="other123"))
            assert status == 400 and "password_confirm" in mismatch["details"], mismatch
            status, _, login = api(port, "POST", "/api/users/login/", {"email": email, "password": "securePass123"})
            assert status == 200, login
            shape(login, {"refresh": str, "access": str, "user": dict}, "login")
            shape(login["user"], {"id": int, "email": str, "full_name": str, "role": str, "permissions": list}, "user")
            teacher = register(port, "Ahmed", role="TEACHER")
            status, _, teacher_login = api(port, "POST", "/api/users/login/", {"email": teacher["email"], "password": "pass12345"})
            assert {"can_manage_attendance", "can_create_homework", "can_create_exercises"} <= \
                set(teacher_login["user"]["permissions"]), teacher_login["user"]
            status, _, refreshed = api(port, "POST", "/api/token/refresh/", {"refresh": login["refresh"]})
            assert status == 200 and set(refreshed) == {"access"}, refreshed
            status, _, verified = api(port, "POST", "/api/token/verify/", {"token": refreshed["access"]})
            assert status == 200, verified
            status, _, profile = api(port, "GET", "/api/users/profile/", token=refreshed["access"])
            assert status == 200 and profile["email"] == email and profile["full_name"] == "Sara Alami", profile
            status, _, patched = api(port, "PATCH", "/api/users/profile/", {"first_name": "Sarah"}, token=refreshed["access"])
            assert status == 200 and patched["full_name"] == "Sarah Alami", patched
            status, _, changed = api(port, "POST", "/api/users/change-password/",
                                     {"current_password": "securePass123", "new_password": "newSecurePass456",
                                      "new_password_confirm": "newSecurePass456"}, token=refreshed["access"])
            assert status == 200, changed
            status, _, weak = api(port, "POST", "/api/users/change-password/",
                                  {"current_password": "newSecurePass456", "new_password": "onlyletterss",
                                   "new_password_confirm": "onlyletterss"}, token=refreshed["access"])
            assert status == 400 and "new_password" in weak["details"], "Madrasti's letters-and-digits rule on its paths"
            status, _, unauthorized = api(port, "GET", "/api/users/profile/")
            assert status == 401
            shape(unauthorized, ERROR, "401")
            # Parent notifications: create (service), list fields, mark_read, unread, bulk_read, action_taken.
            parent = register(port, "Fatima", role="PARENT")
            status, _, created = api(port, "POST", "/api/attendance/notifications/", {
                "recipient": parent["id"], "student": student["id"], "notification_type": "ABSENCE_ALERT", "priority": "HIGH",
                "title": "Absence", "title_arabic": "غياب", "title_french": "Absence", "message": "Sara was absent",
                "requires_action": True, "data": {"student_name": "Sara Alami"}}, api_key=KEY)
            assert status == 201, created
            status, _, listing = api(port, "GET", "/api/attendance/notifications/", token=parent["access"])
            item = listing["results"][0]
            shape(item, {"id": int, "recipient": int, "student": int, "student_name": str, "notification_type": str,
                         "priority": str, "title": str, "title_arabic": str, "title_french": str, "message": str,
                         "message_arabic": str, "message_french": str, "status": str, "sent_at": str, "read_at": None,
                         "delivery_method": list, "reference_id": None, "reference_type": None, "auto_generated": bool,
                         "requires_action": bool, "action_taken": bool, "created_at": str}, "parent notification")
            assert item["student"] == student["id"] and item["status"] in ("SENT", "DELIVERED", "READ", "FAILED")
            # Accept-Language picks the language of title/message, ahead of the profile (003, Internationalization).
            for language, title in (("ar", "غياب"), ("fr-FR,fr;q=0.9", "Absence")):
                status, _, localized = api(port, "GET", f"/api/attendance/notifications/{item['id']}/",
                                           token=parent["access"], headers={"Accept-Language": language})
                assert status == 200 and localized["title"] == title, (language, localized["title"])
            status, _, unread = api(port, "GET", "/api/attendance/notifications/unread/", token=parent["access"])
            assert created["id"] in [n["id"] for n in unread["results"]], unread
            status, _, acted = api(port, "PATCH", f"/api/attendance/notifications/{item['id']}/", {"action_taken": True},
                                   token=parent["access"])
            assert status == 200 and acted["action_taken"] is True, acted
            status, _, _ = api(port, "POST", f"/api/attendance/notifications/{item['id']}/mark_read/", token=parent["access"])
            assert status == 200
            status, _, bulk = api(port, "POST", "/api/attendance/notifications/bulk_read/", {"ids": [item["id"]]},
                                  token=parent["access"])
            assert status == 200 and bulk["ids"] == [] and "unseen_count" in bulk, bulk
            asyncio.run(madrasti_socket(parent, student["id"]))
            status, _, page = api(port, "GET", "/api/attendance/notifications/?page_size=2&page=2", token=parent["access"])
            shape(page, dict(DRF_PAGE, page_info=dict), "page")
            shape(page["page_info"], {"current_page": int, "total_pages": int, "page_size": int, "has_next": bool,
                                      "has_previous": bool}, "page_info")

        def course_platform():
            # 004: register at /api/users/register/ (role "student"), /api/token/ by username, profile PUT.
            username = "john_" + uuid.uuid4().hex[:6]
            status, _, user = api(port, "POST", "/api/users/register/", {
                "username": username, "email": unique("john"), "password": "securepass123", "first_name": "John",
                "last_name": "Doe", "role": "student"})
            assert status == 201, (status, user)
            status, _, tokens = api(port, "POST", "/api/token/", {"username": username, "password": "securepass123"})
            assert status == 200, tokens
            shape(tokens, {"access": str, "refresh": str}, "token")
            status, headers, profile = api(port, "GET", "/api/users/profile/", token=tokens["access"])
            assert status == 200 and profile["username"] == username
            for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
                assert name in headers, headers
            status, _, updated = api(port, "PUT", "/api/users/profile/", {"first_name": "Jane", "bio": "Student"},
                                     token=tokens["access"])
            assert status == 200 and updated["first_name"] == "Jane", updated
            post_event(port, {"type": "enrollment.created", "recipients": {"users": [user["id"]]},
                              "data": {"course_title": "Web Development"}})
            status, _, page = api(port, "GET", "/api/v1/notifications/", token=tokens["access"])
            assert page["results"][0]["message"] == 'You are enrolled in "Web Development".', page["results"][0]
            status, _, error = api(port, "GET", "/api/v1/notifications/999999999/", token=tokens["access"])
            assert status == 404 and error["success"] is False and error["message"], error
            shape(error, ERROR, "404")

        async def halaka_room():
            # 001: the backend cancels and restores a session; every student of the circle hears of it.
            students = [register(port, f"Talib{n}", language="ar") for n in range(2)]
            room = "halaka:" + uuid.uuid4().hex[:10]
            api(port, "POST", f"/api/v1/rooms/{room}/members/", {"user_ids": [s["id"] for s in students]}, api_key=KEY)
            sockets = [(await socket(port, "/ws/notifications/", first={"type": "auth", "token": s["access"]}))[0]
                       for s in students]
            cancel = {"cancelledSession": {"sessionDate": "2025-08-15T00:00:00.000Z", "reason": "Emergency leave"},
                      "newEndDate": "2025-12-05T00:00:00.000Z"}
            post_event(port, {"type": "session_cancelled", "recipients": {"rooms": [room]}, "data": cancel})
            for ws in sockets:
                push = await next_push(ws, "session_cancelled")
                assert push["data"]["cancelledSession"] == cancel["cancelledSession"], push
                assert push["data"]["notification"]["title"] == "تم إلغاء الحصة" or push["data"]["notification"]["title"]
                assert "{" not in push["data"]["notification"]["message"], push
            post_event(port, {"type": "session_restored", "recipients": {"rooms": [room]},
                              "data": {"halaka_name": "Al-Fatiha", "date": "2025-08-15", "time": "18:00"}})
            for ws in sockets:
                push = await next_push(ws, "session_restored")
                assert "Al-Fatiha" in push["data"]["notification"]["message"], push
                await ws.close()

        def simplejwt_tokens():
            from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

            class User:  # what simplejwt reads from a Django user
                def __init__(self, id):
                    self.id = self.pk = id
                    self.is_active = True

            user = register(port, "Judge")
            minted = RefreshToken.for_user(User(user["id"]))
            status, _, me = api(port, "GET", "/api/v1/users/me/", token=str(minted.access_token))
            assert status == 200 and me["id"] == user["id"], (status, me)

            async def over_socket():
                ws, hello = await socket(port, "/ws/notifications/", first={"type": "auth", "token": str(minted.access_token)})
                assert hello["data"]["user_id"] == user["id"]
                await ws.close()
            asyncio.run(over_socket())
            for _ in range(2):
                status, _, fresh = api(port, "POST", "/api/token/refresh/", {"refresh": str(minted)})
                assert status == 200 and set(fresh) == {"access"}, (status, fresh)
                assert AccessToken(fresh["access"])["user_id"] == user["id"], "simplejwt reads the hub's access token"
            status, _, login = api(port, "POST", "/api/token/", {"email": user["email"], "password": "pass12345"})
            assert RefreshToken(login["refresh"])["user_id"] == user["id"], "simplejwt reads the hub's refresh token"
            with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_REFRESH_ROTATION=1) as rotating:
                again = RefreshToken.for_user(User(user["id"]))
                status, _, first = api(rotating.port, "POST", "/api/token/refresh/", {"refresh": str(again)})
                assert status == 200 and set(first) == {"access", "refresh"}, first
                status, _, second = api(rotating.port, "POST", "/api/token/refresh/", {"refresh": str(again)})
                assert status == 401 and second["error_code"] == "TOKEN_INVALID", (status, second)

        def django_password_validators():
            from django.contrib.auth.password_validation import (CommonPasswordValidator, MinimumLengthValidator,
                                                                 NumericPasswordValidator, UserAttributeSimilarityValidator)
            from django.core.exceptions import ValidationError

            class Person:
                username, first_name, last_name = "kamal_r", "Kamal", "Rahimi"

                class _meta:
                    @staticmethod
                    def get_field(name):
                        return type("Field", (), {"verbose_name": name.replace("_", " ")})

            validators = [UserAttributeSimilarityValidator(), MinimumLengthValidator(), CommonPasswordValidator(),
                          NumericPasswordValidator()]
            for password in ["securepassword123", "secure_password", "password123", "12345678901", "short7",
                             "kamalrahimi", "rahimi2024!", "Tr0ub4dor&3", "qwertyuiop", "abc12345", "letmein2024"]:
                person = Person()
                person.email = f"kamal.rahimi.{uuid.uuid4().hex[:8]}@example.com"
                person.username = "kamal_" + uuid.uuid4().hex[:8]
                try:
                    for validator in validators:
                        validator.validate(password, person)
                    django_accepts = True
                except ValidationError:
                    django_accepts = False
                status, _, body = api(port, "POST", "/api/v1/auth/register/", {
                    "email": person.email, "username": person.username, "first_name": "Kamal",
                    "last_name": "Rahimi", "password": password})
                assert (status == 201) == django_accepts, (password, django_accepts, status, body)

        checks.run("Khatma (000): register, login, list with related_khatma, absolute next with filters, read", khatma)
        checks.run("TuranTalim (002): admin creates a teacher (uz), username login, refresh twice, PUT switches, "
                   "socket with no token in the URL (access_token cookie, allowed Origin only)", turantalim)
        checks.run("Madrasti (003): register, permissions, refresh {access}, profile, change-password, parent "
                   "notifications, the socket's data as documented, page_info", madrasti)
        checks.run("course platform (004): register, /api/token/ by username, profile, error keys", course_platform)
        checks.run("Halaka (001): cancel/restore reach every student of the room, payload intact",
                   lambda: asyncio.run(halaka_room()))
        checks.run("simplejwt mints a pair the hub accepts (REST, socket); refresh twice; rotation refuses the 2nd",
                   simplejwt_tokens)
        checks.run("registration passwords: the hub agrees with Django's default validators", django_password_validators)
    checks.exit()


if __name__ == "__main__":
    main()
