#!/usr/bin/env python3
"""Store and authentication through a real hubd and a real PostgreSQL: every auth endpoint's
success and failure cases, tokens minted by PyJWT with simplejwt's claims, Django password hashes
made by hashlib, rate limits, and a PostgreSQL restart in the middle of a run."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid

import jwt as pyjwt

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, SECRET, Checks, Hubd, api, psql  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PG = os.path.join(HERE, "..", "..", "scripts", "pg-local.sh")
checks = Checks()
SERVICE_KEY = "svc-" + uuid.uuid4().hex


def unique_email(prefix="user"):
    return f"{prefix}.{uuid.uuid4().hex[:10]}@madrasti.ma"


def assert_error_shape(body, code=None):
    assert set(body) >= {"error", "error_code", "timestamp", "details"}, body
    if code:
        assert body["error_code"] == code, body


def simplejwt_token(user_id, token_type="access", exp_delta=300, secret=SECRET, algorithm="HS256", **extra):
    now = int(time.time())
    claims = {"token_type": token_type, "exp": now + exp_delta, "iat": now, "jti": uuid.uuid4().hex, "user_id": user_id}
    claims.update(extra)
    return pyjwt.encode(claims, secret, algorithm=algorithm)


def django_hash(password, iterations=600000, salt=None):
    salt = salt or uuid.uuid4().hex[:22]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=SERVICE_KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000) as hubd:
        port = hubd.port
        state = {}

        def register_success():
            email = unique_email("amina")
            status, headers, body = api(port, "POST", "/api/v1/auth/register/", {
                "email": email, "password": "salam2024", "full_name": "أمينة بن علي", "phone": "+212 600-000-001",
                "username": "amina_" + uuid.uuid4().hex[:6], "language": "ar", "role": "PARENT"}, api_key=SERVICE_KEY)
            assert status == 201, (status, body)
            assert body["user"]["email"] == email and body["user"]["role"] == "PARENT"
            assert body["user"]["first_name"] == "أمينة" and body["user"]["last_name"] == "بن علي"
            assert body["user"]["phone"] == "+212600000001" and body["user"]["language"] == "ar"
            assert body["access"] and body["refresh"] and body["id"] == body["user"]["id"]
            assert "password" not in body["user"]
            for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
                assert name in headers, headers
            state.update(email=email, password="salam2024", username=body["user"]["username"], id=body["user"]["id"],
                         access=body["access"], refresh=body["refresh"])
            stored = psql(f"SELECT password FROM users WHERE id = {int(body['id'])}")
            algorithm, iterations, salt, digest = stored.split("$")
            assert algorithm == "pbkdf2_sha256" and int(iterations) >= 600000, stored
            expected = base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"salam2024", salt.encode(), int(iterations))).decode()
            assert hmac.compare_digest(expected, digest), "hash is Django's pbkdf2_sha256"

        def register_aliases():
            for path in ("/api/auth/register/", "/api/users/register/", "/api/v1/auth/register/teacher/"):
                status, _, body = api(port, "POST", path, {"email": unique_email(), "password": "reader-2024!",
                                                          "fullname": "Khatma Reader"},
                                      api_key=SERVICE_KEY if path.endswith("teacher/") else None)
                assert status == 201, (path, status, body)
            assert body["user"]["role"] == "TEACHER"
            status, _, body = api(port, "POST", "/api/v1/auth/register/teacher/",
                                  {"email": unique_email(), "password": "reader-2024!"})
            assert status == 403 and body["error_code"] == "PERMISSION_DENIED", "teachers are created by staff"

        def register_validation():
            status, _, body = api(port, "POST", "/api/v1/auth/register/",
                                  {"email": "not-an-email", "password": "short", "role": "KING", "phone": "0600",
                                   "language": "de_DE!", "username": "a b"})
            assert status == 400, status
            assert_error_shape(body, "VALIDATION_ERROR")
            assert set(body["details"]) == {"email", "password", "role", "phone", "language", "username"}, body["details"]
            status, _, body = api(port, "POST", "/api/v1/auth/register/", {"email": unique_email(), "password": "12345678"})
            assert status == 400 and "password" in body["details"]
            status, _, body = api(port, "POST", "/api/users/register/", {"email": unique_email(), "password": "lettersonly"})
            assert status == 400 and body["details"]["password"] == ["The password must contain both letters and digits."], body
            status, _, body = api(port, "POST", "/api/v1/auth/register/", {})
            assert status == 400 and {"email", "password"} <= set(body["details"]), body
            status, _, body = api(port, "POST", "/api/v1/auth/register/", {"email": 42, "password": ["x"]})
            assert status == 400 and body["details"]["email"] == ["Must be a string."], body

        def register_duplicate_email():
            status, _, body = api(port, "POST", "/api/v1/auth/register/",
                                  {"email": state["email"].upper(), "password": "another123"})
            assert status == 400 and "email" in body["details"], (status, body)

        def register_invalid_json():
            status, _, body = api(port, "POST", "/api/v1/auth/register/", raw=b"{not json")
            assert status == 400
            assert_error_shape(body, "INVALID_JSON")
            status, _, body = api(port, "POST", "/api/v1/auth/register/", raw=b"[1,2]")
            assert status == 400 and body["error_code"] == "INVALID_JSON"
            # Strict JSON, as Python's json module (the Django platforms' parser): no trailing comma.
            status, _, body = api(port, "POST", "/api/v1/auth/register/", raw=b'{"email": "a@b.ma", "password": "x",}')
            assert status == 400 and body["error_code"] == "INVALID_JSON", (status, body)

        def register_staff_roles_need_privilege():
            status, _, body = api(port, "POST", "/api/v1/auth/register/",
                                  {"email": unique_email("admin"), "password": "root-keeper-77", "role": "ADMIN"})
            assert status == 403, status
            assert_error_shape(body, "PERMISSION_DENIED")
            status, _, body = api(port, "POST", "/api/v1/auth/register/",
                                  {"email": unique_email("staff"), "password": "keeps-things-9", "role": "STAFF"},
                                  api_key=SERVICE_KEY)
            assert status == 201 and body["user"]["role"] == "STAFF", (status, body)

        def login_by_email_username_and_aliases():
            for path, credentials in [
                ("/api/v1/auth/login/", {"email": state["email"]}),
                ("/api/auth/login/", {"email": state["email"].upper()}),
                ("/api/users/login/", {"username": state["username"]}),
                ("/api/token/", {"email": state["username"]}),
            ]:
                status, _, body = api(port, "POST", path, dict(credentials, password=state["password"]))
                assert status == 200, (path, status, body)
                assert {"access", "refresh", "user"} <= set(body) and body["user"]["id"] == state["id"]

        def login_failures():
            status, _, body = api(port, "POST", "/api/v1/auth/login/", {"email": state["email"], "password": "wrong1234"})
            assert status == 401
            assert_error_shape(body, "INVALID_CREDENTIALS")
            status, _, body = api(port, "POST", "/api/v1/auth/login/", {"email": unique_email(), "password": "whatever1"})
            assert status == 401 and body["error_code"] == "INVALID_CREDENTIALS"
            status, _, body = api(port, "POST", "/api/v1/auth/login/", {"email": state["email"]})
            assert status == 400 and "password" in body["details"]

        def me_and_token_checks():
            status, _, body = api(port, "GET", "/api/v1/auth/users/me/", token=state["access"])
            assert status == 200 and body["email"] == state["email"]
            status, headers, body = api(port, "GET", "/api/v1/users/me/")
            assert status == 401 and headers.get("www-authenticate") == "Bearer"
            assert_error_shape(body, "AUTHENTICATION_REQUIRED")
            cases = {
                "expired": simplejwt_token(state["id"], exp_delta=-5),
                "alg none": pyjwt.encode({"token_type": "access", "exp": int(time.time()) + 300, "jti": "x",
                                          "user_id": state["id"]}, None, algorithm="none"),
                "HS512": simplejwt_token(state["id"], algorithm="HS512"),
                "other secret": simplejwt_token(state["id"], secret="another-secret-0123456789abcdef0123"),
                "refresh as access": state["refresh"],
                "garbage": "abc.def.ghi",
            }
            for name, token in cases.items():
                status, _, body = api(port, "GET", "/api/v1/users/me/", token=token)
                assert status == 401, (name, status)
                assert_error_shape(body)
            status, _, body = api(port, "GET", "/api/v1/users/me/", token=cases["expired"])
            assert body["error_code"] == "AUTHENTICATION_REQUIRED", body
            assert body["details"]["token_expired"] is True and body["details"]["message"] == "Token has expired", body
            assert body["details"]["token_expired_at"].endswith("Z"), body

        def pyjwt_simplejwt_token_accepted():
            for user_id in (state["id"], str(state["id"])):
                token = simplejwt_token(user_id)
                status, _, body = api(port, "GET", "/api/v1/auth/me/", token=token)
                assert status == 200 and body["id"] == state["id"], (user_id, status, body)

        def inactive_user_token_refused():
            status, _, body = api(port, "POST", "/api/v1/auth/register/", {"email": unique_email("gone"), "password": "gone12345"})
            token = body["access"]
            psql(f"UPDATE users SET is_active = false WHERE id = {int(body['id'])}")
            status, _, _ = api(port, "GET", "/api/v1/users/me/", token=token)
            assert status == 401, status
            status, _, _ = api(port, "POST", "/api/token/", {"email": body["user"]["email"], "password": "gone12345"})
            assert status == 401, status

        def django_hash_logs_in_and_is_upgraded():
            for iterations in (600000, 260000):
                email = unique_email("django")
                encoded = django_hash("FromDjango1", iterations)
                psql(f"INSERT INTO users (email, password, first_name, role) VALUES ('{email}', '{encoded}', 'Dj', 'TEACHER')")
                status, _, body = api(port, "POST", "/api/token/", {"email": email, "password": "FromDjango1"})
                assert status == 200, (iterations, status, body)
                stored = psql(f"SELECT password FROM users WHERE email = '{email}'")
                assert int(stored.split("$")[1]) >= 600000, stored
                status, _, _ = api(port, "POST", "/api/token/", {"email": email, "password": "FromDjango1"})
                assert status == 200

        def refresh_rotation_and_verify():
            # No rotation by default (simplejwt's ROTATE_REFRESH_TOKENS=False): {access}, and again.
            status, _, body = api(port, "POST", "/api/token/refresh/", {"refresh": state["refresh"]})
            assert status == 200 and set(body) == {"access"}, (status, body)
            status, _, again = api(port, "POST", "/api/v1/auth/refresh/", {"refresh": state["refresh"]})
            assert status == 200 and set(again) == {"access"}, "the same refresh token keeps working"
            status, _, verified = api(port, "POST", "/api/token/verify/", {"token": body["access"]})
            assert status == 200 and verified == {}, (status, verified)
            status, _, _ = api(port, "POST", "/api/token/verify/", {"token": state["refresh"]})
            assert status == 200
            with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_REFRESH_ROTATION=1) as rotating:
                status, _, pair = api(rotating.port, "POST", "/api/token/refresh/", {"refresh": state["refresh"]})
                assert status == 200 and pair["access"] and pair["refresh"] != state["refresh"], (status, pair)
                status, _, refused = api(rotating.port, "POST", "/api/v1/auth/refresh/", {"refresh": state["refresh"]})
                assert status == 401, "with rotation a used refresh token is revoked"
                assert_error_shape(refused, "TOKEN_INVALID")
            status, _, _ = api(port, "POST", "/api/token/verify/", {"token": state["refresh"]})
            assert status == 401, "revoked refresh does not verify"
            status, _, body = api(port, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]})
            assert status == 200
            status, _, _ = api(port, "POST", "/api/token/verify/", {"token": simplejwt_token(state["id"], exp_delta=-1)})
            assert status == 401
            status, _, _ = api(port, "POST", "/api/token/refresh/", {"refresh": body["access"]})
            assert status == 401, "an access token is not a refresh token"
            status, _, bad = api(port, "POST", "/api/token/refresh/", {})
            assert status == 400 and "refresh" in bad["details"]
            state["refresh"] = pair["refresh"]

        def patch_me():
            status, _, body = api(port, "PATCH", "/api/v1/users/me/", {"first_name": "Amina", "last_name": "B.",
                                                                        "phone": "+998 90 123 45 67", "language": "fr"},
                                  token=state["access"])
            assert status == 200 and body["full_name"] == "Amina B." and body["phone"] == "+998901234567"
            assert body["language"] == "fr"
            status, _, body = api(port, "PATCH", "/api/v1/users/me/", {"phone": "12345", "role": "ADMIN"},
                                  token=state["access"])
            assert status == 400 and {"phone", "role"} <= set(body["details"]), body

        def change_password():
            status, _, body = api(port, "POST", "/api/v1/auth/change-password/",
                                  {"old_password": "nope12345", "new_password": "newpass123"}, token=state["access"])
            assert status == 400 and "old_password" in body["details"]
            status, _, body = api(port, "POST", "/api/v1/auth/change-password/",
                                  {"old_password": state["password"], "new_password": "short"}, token=state["access"])
            assert status == 400 and "new_password" in body["details"]
            status, _, _ = api(port, "POST", "/api/v1/auth/change-password/",
                               {"old_password": state["password"], "new_password": "newpass123"}, token=state["access"])
            assert status == 200
            assert api(port, "POST", "/api/token/", {"email": state["email"], "password": state["password"]})[0] == 401
            assert api(port, "POST", "/api/token/", {"email": state["email"], "password": "newpass123"})[0] == 200
            status, _, _ = api(port, "POST", "/api/v1/auth/change-password/", {"old_password": "x", "new_password": "y"})
            assert status == 401

        def service_keys():
            status, _, body = api(port, "GET", "/api/v1/users/me/", api_key="wrong-key")
            assert status == 401 and body["error_code"] == "INVALID_API_KEY"
            table_key = "table-" + uuid.uuid4().hex
            digest = hashlib.sha256(table_key.encode()).hexdigest()
            psql(f"INSERT INTO service_keys (name, key_sha256) VALUES ('khatma-backend', '{digest}')")
            status, _, body = api(port, "POST", "/api/v1/auth/register/",
                                  {"email": unique_email("admin"), "password": "root-keeper-77", "role": "ADMIN"},
                                  api_key=table_key)
            assert status == 201 and body["user"]["role"] == "ADMIN", (status, body)
            status, _, _ = api(port, "GET", "/api/v1/users/me/", api_key=SERVICE_KEY)
            assert status == 403, "a service key is not a user"

        print("[register]")
        checks.run("register: 201 with tokens, Django-format PBKDF2 hash stored", register_success)
        checks.run("register aliases (Khatma, Madrasti, TuranTalim teacher)", register_aliases)
        checks.run("register: every invalid field named in details", register_validation)
        checks.run("register: duplicate email (any case) is 400", register_duplicate_email)
        checks.run("register: invalid JSON is 400 INVALID_JSON", register_invalid_json)
        checks.run("register: ADMIN/STAFF need staff or a service key", register_staff_roles_need_privilege)
        print("[login and tokens]")
        checks.run("login by email or username on every alias", login_by_email_username_and_aliases)
        checks.run("login failures are 401/400 in the error shape", login_failures)
        checks.run("users/me and refused tokens (expired, none, HS512, bad signature, refresh)", me_and_token_checks)
        checks.run("a PyJWT token with simplejwt's claims is accepted", pyjwt_simplejwt_token_accepted)
        checks.run("an inactive user's token and login are refused", inactive_user_token_refused)
        checks.run("a hashlib-made Django hash logs in (and weak ones are upgraded)", django_hash_logs_in_and_is_upgraded)
        checks.run("refresh: no rotation by default (twice with one token), HUB_REFRESH_ROTATION=1 revokes the used one; verify", refresh_rotation_and_verify)
        checks.run("PATCH users/me validates and saves", patch_me)
        checks.run("change password", change_password)
        checks.run("service keys from the environment and the table", service_keys)

        if os.environ.get("HUB_E2E_PG_CONTROL") != "external":
            def postgres_restart():
                subprocess.run([PG, "stop"], check=True)
                try:
                    status, _, body = api(port, "GET", "/api/v1/users/me/", token=state["access"])
                    assert status == 503, status
                    assert_error_shape(body, "DATABASE_UNAVAILABLE")
                    status, _, body = api(port, "GET", "/api/health/")
                    assert status == 503 and body["database"] == "unavailable", (status, body)
                finally:
                    subprocess.run([PG, "start"], check=True)
                deadline = time.time() + 20
                while True:
                    status, _, body = api(port, "GET", "/api/v1/users/me/", token=state["access"])
                    if status == 200:
                        break
                    assert status == 503, status
                    assert time.time() < deadline, "the pool did not recover"
                    time.sleep(0.2)
                time.sleep(1.1)
                status, _, body = api(port, "GET", "/api/health/")
                assert status == 200 and body["database"] == "connected", body
            print("[database]")
            checks.run("PostgreSQL restart: 503 DATABASE_UNAVAILABLE, then recovery without restarting hubd", postgres_restart)

    print("[limits and migrations]")

    def rate_limits():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_RATE_LIMIT_ANON=3, HUB_RATE_LIMIT_LOGIN=2) as limited:
            statuses = [api(limited.port, "POST", "/api/token/verify/", {"token": "x"})[0] for _ in range(3)]
            assert statuses == [401, 401, 401], statuses
            status, headers, body = api(limited.port, "POST", "/api/token/verify/", {"token": "x"})
            assert status == 429, status
            assert_error_shape(body, "RATE_LIMIT_EXCEEDED")
            assert set(body["details"]) == {"limit", "window", "reset_at", "retry_after"}, body
            assert body["details"]["limit"] == 3 and body["details"]["window"] == 3600, body
            assert int(headers["retry-after"]) >= 1 and headers["x-ratelimit-remaining"] == "0", headers
            assert headers["x-ratelimit-limit"] == "3" and headers["x-ratelimit-window"] == "3600"
            # Failed logins count per account and address; another account from the same address still may.
            logins = [api(limited.port, "POST", "/api/token/", {"email": "a@b.cd", "password": "x1234567"})[0]
                      for _ in range(3)]
            assert logins == [401, 401, 429], logins
            assert api(limited.port, "POST", "/api/token/", {"email": "z@b.cd", "password": "x1234567"})[0] == 401
            # A classroom behind one address: 30 pupils sign in within the minute (30 x the failed-login limit).
            statuses = [api(limited.port, "POST", "/api/token/", {"email": f"pupil{n}@b.cd", "password": "x1234567"})[0]
                        for n in range(30)]
            assert statuses == [401] * 30, statuses
            # All login and register requests per address are limited too (60 a minute here). The
            # bucket refills one a second, so a slow loop sees a request through now and then after
            # its first 429: at most one per second of the loop, plus one.
            started = time.monotonic()
            more = [api(limited.port, "POST", "/api/v1/auth/register/", {})[0] for _ in range(60)]
            elapsed = time.monotonic() - started
            assert more[0] == 400 and 429 in more, more
            assert more[more.index(429):].count(400) <= int(elapsed) + 1, (more, elapsed)

    def migrations_apply_once():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL) as again:
            line = next(json.loads(l) for l in again.lines if '"migrations"' in l)
            assert line["applied"] == "", line
        # Versions are numbered by parallel work and may have gaps: every one of them is applied once.
        assert int(psql("SELECT count(*) FROM schema_migrations")) == line["available"], line

    def missing_database_url_is_not_configured():
        with Hubd() as bare:
            status, _, body = api(bare.port, "GET", "/api/health/")
            assert status == 200 and body["database"] == "not_configured"

    checks.run("rate limits: 429 with Retry-After and X-RateLimit-*; login stricter", rate_limits)
    checks.run("a second start applies no migration", migrations_apply_once)
    checks.run("without HUB_DATABASE_URL health says not_configured", missing_database_url_is_not_configured)
    checks.exit()


if __name__ == "__main__":
    main()
