"""Starts hubd for the Python end-to-end suites and talks to it over raw sockets."""
import asyncio
import base64
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

BINARY = os.environ.get("HUBD_BINARY") or os.path.join(
    os.path.dirname(__file__), "..", "..", ".build", "debug", "hubd")
SECRET = "e2e-secret-0123456789abcdef0123456789abcdef"


SUITE_SERVICE_KEY = "suite-service-key-" + os.urandom(8).hex()


class Hubd:
    """hubd on an ephemeral port; its JSON log lines are collected."""

    def __init__(self, **env):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        environment.update({"HUB_HOST": "127.0.0.1", "HUB_PORT": "0", "HUB_JWT_SECRET": SECRET,
                            "HUB_THREADS": "2", "HUB_ENABLE_ECHO": "1", "HUB_LOG_LEVEL": "info"})
        environment.update({k: str(v) for k, v in env.items()})
        # Every hubd also knows the suites' own service key (register_user creates staff-only roles with it).
        keys = [k for k in environment.get("HUB_SERVICE_KEYS", "").split(",") if k]
        environment["HUB_SERVICE_KEYS"] = ",".join(keys + [SUITE_SERVICE_KEY])
        self.process = subprocess.Popen([BINARY], env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.port = None
        started = threading.Event()

        def pump():
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if '"hubd started"' in line:
                    self.port = json.loads(line)["port"]
                    started.set()
            started.set()

        threading.Thread(target=pump, daemon=True).start()
        started.wait(20)
        if self.port is None:
            self.process.kill()
            raise RuntimeError("hubd did not start:\n" + "\n".join(self.lines))

    def stop(self):
        if self.process.poll() is not None and self.process.returncode != 0:
            print(f"hubd exited with {self.process.returncode}; its last output:")
            print("\n".join(self.lines[-60:]))
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Closed(Exception):
    pass


class RawWebSocket:
    """A WebSocket client written from the RFC over a plain socket, so every byte is ours to choose."""

    def __init__(self, port, path="/ws/echo/", headers=None, timeout=10.0, handshake=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.port = port
        if handshake:
            status, response_headers = self.handshake(path, headers or {})
            if status != 101:
                raise RuntimeError(f"handshake answered {status}")
            self.response_headers = response_headers

    def handshake(self, path, headers, key=None):
        key = key or base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        defaults = {line.split(":")[0].lower(): i for i, line in enumerate(lines)}
        for name, value in headers.items():
            if name.lower() in defaults:
                index = defaults[name.lower()]
                lines[index] = None if value is None else f"{name}: {value}"
            else:
                lines.append(f"{name}: {value}")
        self.sock.sendall(("\r\n".join(l for l in lines if l is not None) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("closed during handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        response_headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            response_headers[name.strip().lower()] = value.strip()
        if status != 101 and "content-length" in response_headers:
            self._read(int(response_headers["content-length"]))
        return status, response_headers

    @staticmethod
    def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
        first = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload) if length is None else length
        mask_bit = 0x80 if mask else 0
        if n < 126:
            header = struct.pack("!BB", first, mask_bit | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, mask_bit | 126, n)
        else:
            header = struct.pack("!BBQ", first, mask_bit | 127, n)
        if not mask:
            return header + payload
        key = os.urandom(4)
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 4096 else _mask_fast(payload, key)
        return header + key + masked

    def send_raw(self, data, chunk=None):
        if chunk is None:
            self.sock.sendall(data)
        else:
            for i in range(0, len(data), chunk):
                self.sock.sendall(data[i:i + chunk])

    def send(self, opcode, payload=b"", **kwargs):
        chunk = kwargs.pop("chunk", None)
        self.send_raw(self.frame(opcode, payload, **kwargs), chunk)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise Closed("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv_frame(self):
        first, second = self._read(2)
        if second & 0x80:
            raise AssertionError("server frames must not be masked")
        n = second & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return bool(first & 0x80), (first >> 4) & 7, first & 0x0F, self._read(n)

    def recv_message(self):
        """The next data message (pings answered are not expected here)."""
        fin, rsv, opcode, payload = self.recv_frame()
        return opcode, payload

    def expect_close(self, codes):
        """The next frame must be a close with one of `codes`, then the server closes TCP."""
        fin, rsv, opcode, payload = self.recv_frame()
        assert opcode == 0x8, f"expected a close frame, got opcode {opcode} {payload[:40]!r}"
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        assert code in codes, f"close code {code}, expected {codes}"
        self.expect_tcp_close()
        return code

    def expect_tcp_close(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
        except ConnectionResetError:
            return
        except socket.timeout:
            raise AssertionError("server did not close the TCP connection")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _mask_fast(payload, key):
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


DATABASE_URL = os.environ.get("HUB_E2E_DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/hub_e2e")


def api(port, method, path, body=None, token=None, api_key=None, headers=None, raw=None):
    """One HTTP request; returns (status, headers dict (lower-case names), parsed JSON or None)."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    all_headers = {"Content-Type": "application/json"}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if api_key:
        all_headers["Authorization"] = f"Api-Key {api_key}"
    all_headers.update(headers or {})
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    connection.request(method, path, body=payload, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    parsed = json.loads(data) if data else None
    return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed


def unique_tag(length=10):
    """A random tag for emails registered with the password "pass12345": none of that password's
    characters, so Django's similarity rule (quick_ratio >= 0.7 against the email's parts) never
    refuses it; a hex tag holding a, 1, 2, 3, 4 and 5 did, now and then."""
    import random
    return "".join(random.choice("bcdfghjkmnqrtvwxyz6789") for _ in range(length))


def register_user(port, name, role=None, language=None, api_key=None, prefs=None):
    """Registers a user through the API (a fresh email each time, password "pass12345"), optionally
    saves preferences; returns id, email, name and the access token (as "access" and "token")."""
    body = {"email": f"{name.lower()}.{unique_tag()}@school.ma", "password": "pass12345", "full_name": name}
    if role:
        body["role"] = role
    if language:
        body["language"] = language
    if role and role.upper() != "STUDENT" and api_key is None:
        api_key = SUITE_SERVICE_KEY  # only STUDENT accounts register themselves (HUB_SELF_REGISTRATION_ROLES)
    status, _, answer = api(port, "POST", "/api/v1/auth/register/", body, api_key=api_key)
    assert status == 201, (status, answer)
    token = answer["access"]
    if prefs:
        status, _, saved = api(port, "PATCH", "/api/v1/notifications/preferences/me/", prefs, token=token)
        assert status == 200, saved
    return {"id": answer["user"]["id"], "email": body["email"], "name": name, "access": token, "token": token}


class Recorder:
    """A local HTTP server standing in for Telegram or an SMS gateway: it records every request
    and answers from a script (status, JSON body, delay) per path, then 200."""

    def __init__(self, tls=None):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with recorder.lock:
                    recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                              "time": time.time()})
                    action = recorder.script.pop(0) if recorder.script else (200, {"ok": True, "result": {"message_id": 7}}, 0)
                    recorder.in_flight += 1
                    recorder.max_in_flight = max(recorder.max_in_flight, recorder.in_flight)
                status, payload, delay = action
                if delay:
                    time.sleep(delay)
                with recorder.lock:
                    recorder.in_flight -= 1
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def matching(self, predicate):
        with self.lock:
            return [r for r in self.requests if predicate(r)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self, delay=0.0):
        self.messages = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((envelope.rcpt_tos, envelope.content, session.authenticated))
        return f"250 OK queued as q{os.urandom(4).hex()}"

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m[0]]


def fail_leftover_deliveries():
    """Deliveries other suites left queued in the shared database would reach a suite's stand-in
    servers first: they are failed before the suite starts."""
    psql("DO $$ BEGIN IF to_regclass('deliveries') IS NOT NULL THEN UPDATE deliveries SET status = 'FAILED', "
         "last_error = 'left by an earlier suite' WHERE status IN ('PENDING', 'RETRY', 'SENDING'); END IF; END $$")


async def session_pushes(port, user, seconds):
    """The notifications pushed to one new session of `user` (after its connection_established)
    within `seconds`: (type, the stored notification (the push's data.notification), arrival time) each."""
    import websockets
    arrived = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/notifications/?token={user['token']}") as tab:
        await tab.recv()
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                message = json.loads(await asyncio.wait_for(tab.recv(), deadline - time.time()))
            except asyncio.TimeoutError:
                break
            if isinstance(message.get("data"), dict) and "notification" in message["data"]:
                arrived.append((message["type"], message["data"]["notification"], time.time()))
    return arrived


def wait_for(condition, seconds=20, what="condition"):
    """Polls `condition` until it returns something true (returned), or fails after `seconds`."""
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def psql(sql, url=DATABASE_URL):
    """Runs SQL of the test's own (never request data) through the psql client."""
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


class Checks:
    """Named checks with PASS/FAIL lines; exit status 1 if any failed."""

    def __init__(self):
        self.failures = []

    def run(self, name, fn):
        try:
            fn()
            print(f"  PASS  {name}", flush=True)
        except Exception as error:  # noqa: BLE001
            import traceback
            self.failures.append(name)
            print(f"  FAIL  {name}: {error!r}", flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)

    def exit(self):
        sys.exit(1 if self.failures else 0)

