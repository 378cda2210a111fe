#!/usr/bin/env python3
"""The Origin allow-list of /ws/notifications/ (HUB_WS_ORIGINS): a browser page from an origin
that is not allowed is refused with 403 before the upgrade, on both paths and whatever its token;
an allowed origin, the hub's own origin, or no Origin at all (non-browser clients) upgrades. The
list defaults to HUB_CORS_ORIGINS, `*` allows any, and a malformed list stops start-up."""
import base64
import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from hubd import BINARY, DATABASE_URL, SECRET, Checks, Hubd, RawWebSocket, api, register_user as register  # noqa: E402

checks = Checks()
SERVICE_KEY = "svc-" + uuid.uuid4().hex
ALLOWED = "https://app.example"


def upgrade_headers(origin=None):
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    if origin is not None:
        headers["Origin"] = origin
    return headers


def refused(port, path, origin):
    """The upgrade is answered 403 ORIGIN_NOT_ALLOWED, as JSON, and nothing is upgraded."""
    status, headers, body = api(port, "GET", path, headers=upgrade_headers(origin))
    assert status == 403, (path, origin, status, body)
    assert body["error_code"] == "ORIGIN_NOT_ALLOWED", body
    assert "upgrade" not in headers.get("connection", "").lower(), headers


def connects(port, path, origin, user=None):
    """The upgrade succeeds; with the user's token in the query, `connected` names that user."""
    ws = RawWebSocket(port, path=path, handshake=False)
    status, _ = ws.handshake(path, {"Origin": origin} if origin is not None else {})
    assert status == 101, (path, origin, status)
    if user is not None:
        _, _, opcode, payload = ws.recv_frame()
        hello = json.loads(payload)
        assert opcode == 0x1 and hello["type"] == "connected" and hello["data"]["user_id"] == user["id"], hello
    ws.sock.close()


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=SERVICE_KEY, HUB_RATE_LIMIT_ANON=100000,
              HUB_RATE_LIMIT_LOGIN=100000, HUB_CORS_ORIGINS="https://cors-only.example",
              HUB_WS_ORIGINS=f"{ALLOWED}, http://localhost:3000/") as hubd:
        port = hubd.port
        amina = register(port, "Amina")
        token = amina["access"]
        paths = [f"/ws/notifications/?token={token}", f"/ws/notifications/{amina['id']}/?token={token}"]

        def other_origin_is_refused_on_both_paths():
            for path in paths + ["/ws/notifications/", f"/ws/notifications/{amina['id']}/"]:
                for origin in ["https://evil.example", "https://app.example.evil.example", "http://app.example",
                               "https://cors-only.example", "null"]:
                    refused(port, path, origin)

        def refused_before_the_token_is_looked_at():
            refused(port, "/ws/notifications/?token=bad.token.value", "https://evil.example")

        def allowed_origin_upgrades():
            for path in paths:
                connects(port, path, ALLOWED, amina)
                connects(port, path, "HTTPS://APP.EXAMPLE", amina)
            connects(port, "/ws/notifications/", "http://localhost:3000")

        def no_origin_upgrades():
            for path in paths:
                connects(port, path, None, amina)

        def same_origin_page_upgrades():
            for path in paths:
                connects(port, path, f"http://127.0.0.1:{port}", amina)

        print("[HUB_WS_ORIGINS]")
        checks.run("an origin not on the list gets 403 before the upgrade, on both paths",
                   other_origin_is_refused_on_both_paths)
        checks.run("the origin is refused before a bad token would be", refused_before_the_token_is_looked_at)
        checks.run("an allowed origin upgrades (any case, trailing slash in the list)", allowed_origin_upgrades)
        checks.run("no Origin (a non-browser client) upgrades", no_origin_upgrades)
        checks.run("a page of the hub's own origin upgrades", same_origin_page_upgrades)

    def defaults_to_the_cors_list():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_LOGIN=100000,
                  HUB_CORS_ORIGINS="https://school.example") as hubd:
            user = register(hubd.port, "Omar")
            path = f"/ws/notifications/?token={user['access']}"
            connects(hubd.port, path, "https://school.example", user)
            refused(hubd.port, path, "https://evil.example")
            connects(hubd.port, path, None, user)

    def star_allows_any():
        with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_LOGIN=100000,
                  HUB_WS_ORIGINS="*") as hubd:
            user = register(hubd.port, "Yusuf")
            for origin in ["https://anything.example", "null"]:
                connects(hubd.port, f"/ws/notifications/{user['id']}/?token={user['access']}", origin, user)

    def malformed_list_stops_start_up():
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        environment.update({"HUB_JWT_SECRET": SECRET, "HUB_PORT": "0"})
        done = subprocess.run([BINARY, "--ws-origins", "https://ok.example,app.example"], env=environment,
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
        assert "HUB_WS_ORIGINS" in done.stdout + done.stderr and "app.example" in done.stdout + done.stderr

    def help_documents_the_flag():
        done = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=20)
        assert "--ws-origins" in done.stdout and "HUB_WS_ORIGINS" in done.stdout, done.stdout

    print("[defaults and configuration]")
    checks.run("without HUB_WS_ORIGINS the HUB_CORS_ORIGINS list applies", defaults_to_the_cors_list)
    checks.run("HUB_WS_ORIGINS=* allows any origin, null included", star_allows_any)
    checks.run("a malformed HUB_WS_ORIGINS stops start-up with one line naming it", malformed_list_stops_start_up)
    checks.run("hubd --help lists --ws-origins", help_documents_the_flag)
    checks.exit()


if __name__ == "__main__":
    main()
