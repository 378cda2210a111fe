#!/usr/bin/env python3
"""WebSocket conformance of hubd's /ws/echo, over raw sockets, in the sections of the Autobahn
test suite (1 framing, 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8,
7 closing) plus the handshake and the limits. Every case is strict: the exact answer or close
code the RFC asks for. Prints each case by section; exits non-zero if any fails."""
import os
import socket
import struct
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
from hubd import Hubd, RawWebSocket  # noqa: E402

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
CASES = []


def case(section, title):
    def register(fn):
        CASES.append((section, title, fn))
        return fn
    return register


def echo(port, opcode, payload, chunk=None, **kw):
    ws = RawWebSocket(port)
    ws.send(opcode, payload, chunk=chunk, **kw)
    got_opcode, got = ws.recv_message()
    assert got_opcode == opcode, f"opcode {got_opcode}"
    assert got == payload, f"payload differs ({len(got)} vs {len(payload)} bytes)"
    ws.send(CLOSE, struct.pack("!H", 1000))
    ws.expect_close({1000})


def fails_with(port, code, *frames, chunk=None):
    ws = RawWebSocket(port)
    for frame in frames:
        ws.send_raw(frame, chunk)
    ws.expect_close({code})


F = RawWebSocket.frame

# 1 Framing
for size in (0, 1, 125, 126, 127, 128, 65535, 65536, 1 << 20):
    case("1 Framing", f"text message of {size} bytes")(lambda p, n=size: echo(p, TEXT, b"*" * n))
    case("1 Framing", f"binary message of {size} bytes")(lambda p, n=size: echo(p, BINARY, bytes(range(256)) * (n // 256) + bytes(n % 256)))
case("1 Framing", "text of 65536 bytes written one byte at a time for the first 300 bytes")(
    lambda p: echo(p, TEXT, b"a" * 300, chunk=1))
case("1 Framing", "binary of 1 MiB in 997-byte writes")(lambda p: echo(p, BINARY, os.urandom(1 << 20), chunk=997))


@case("1 Framing", "several frames in one write are answered in order")
def several_in_one_write(port):
    ws = RawWebSocket(port)
    ws.send_raw(b"".join(F(TEXT, f"m{i}".encode()) for i in range(50)))
    for i in range(50):
        assert ws.recv_message() == (TEXT, f"m{i}".encode())


@case("1 Framing", "unmasked client frame fails with 1002")
def unmasked(port):
    fails_with(port, 1002, F(TEXT, b"hello", mask=False))


# 2 Ping/Pong
@case("2 Ping/Pong", "ping without payload gets an empty pong")
def ping_empty(port):
    ws = RawWebSocket(port)
    ws.send(PING)
    assert ws.recv_frame() == (True, 0, PONG, b"")


@case("2 Ping/Pong", "ping with 125 bytes gets the same 125 bytes back")
def ping_125(port):
    ws = RawWebSocket(port)
    payload = os.urandom(125)
    ws.send(PING, payload)
    assert ws.recv_frame() == (True, 0, PONG, payload)


@case("2 Ping/Pong", "ping with 126 bytes fails with 1002")
def ping_126(port):
    fails_with(port, 1002, F(PING, b"x" * 126))


@case("2 Ping/Pong", "unsolicited pong is ignored")
def unsolicited_pong(port):
    ws = RawWebSocket(port)
    ws.send(PONG, b"unasked")
    ws.send(TEXT, b"after")
    assert ws.recv_message() == (TEXT, b"after")


@case("2 Ping/Pong", "ping written one byte at a time")
def ping_bytewise(port):
    ws = RawWebSocket(port)
    ws.send(PING, b"slow ping", chunk=1)
    assert ws.recv_frame() == (True, 0, PONG, b"slow ping")


@case("2 Ping/Pong", "ten pings get ten pongs in order")
def ten_pings(port):
    ws = RawWebSocket(port)
    ws.send_raw(b"".join(F(PING, f"p{i}".encode()) for i in range(10)))
    for i in range(10):
        assert ws.recv_frame() == (True, 0, PONG, f"p{i}".encode())


@case("2 Ping/Pong", "binary ping payload is echoed exactly")
def ping_binary(port):
    ws = RawWebSocket(port)
    ws.send(PING, b"\x00\xff\xfe\xfd")
    assert ws.recv_frame() == (True, 0, PONG, b"\x00\xff\xfe\xfd")


# 3 Reserved bits
for rsv in (1, 2, 3, 4, 5, 6, 7):
    case("3 Reserved bits", f"RSV={rsv} on a text frame fails with 1002")(
        lambda p, r=rsv: fails_with(p, 1002, F(TEXT, b"hello", rsv=r)))
case("3 Reserved bits", "RSV on a ping fails with 1002")(lambda p: fails_with(p, 1002, F(PING, b"", rsv=2)))
case("3 Reserved bits", "RSV on a close fails with 1002")(lambda p: fails_with(p, 1002, F(CLOSE, struct.pack("!H", 1000), rsv=4)))


@case("3 Reserved bits", "valid echo, then RSV frame: echo answered, then 1002")
def rsv_after_echo(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"ok") + F(TEXT, b"bad", rsv=1) + F(PING, b"never"))
    assert ws.recv_message() == (TEXT, b"ok")
    ws.expect_close({1002})


# 4 Opcodes
for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
    case("4 Opcodes", f"reserved opcode {opcode:#x} fails with 1002")(lambda p, o=opcode: fails_with(p, 1002, F(o, b"x")))


@case("4 Opcodes", "reserved opcode after a valid message: echo answered, then 1002")
def reserved_after_echo(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"first") + F(5, b"") + F(PING, b""))
    assert ws.recv_message() == (TEXT, b"first")
    ws.expect_close({1002})


# 5 Fragmentation
@case("5 Fragmentation", "fragmented ping fails with 1002")
def fragmented_ping(port):
    fails_with(port, 1002, F(PING, b"frag", fin=False), F(CONT, b"ment"))


@case("5 Fragmentation", "fragmented pong fails with 1002")
def fragmented_pong(port):
    fails_with(port, 1002, F(PONG, b"frag", fin=False), F(CONT, b"ment"))


@case("5 Fragmentation", "text in two fragments is echoed joined")
def two_fragments(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"frag", fin=False) + F(CONT, b"ment"))
    assert ws.recv_message() == (TEXT, b"fragment")


@case("5 Fragmentation", "binary in 100 one-byte fragments, written byte by byte")
def many_fragments(port):
    ws = RawWebSocket(port)
    data = bytes(range(100))
    frames = [F(BINARY if i == 0 else CONT, data[i:i + 1], fin=i == 99) for i in range(100)]
    ws.send_raw(b"".join(frames), chunk=1)
    assert ws.recv_message() == (BINARY, data)


@case("5 Fragmentation", "ping between fragments is answered first, then the message")
def interleaved_ping(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"one ", fin=False) + F(PING, b"mid") + F(CONT, b"two ", fin=False) + F(CONT, b"three"))
    assert ws.recv_frame() == (True, 0, PONG, b"mid")
    assert ws.recv_message() == (TEXT, b"one two three")


@case("5 Fragmentation", "empty fragments are allowed")
def empty_fragments(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"", fin=False) + F(CONT, b"", fin=False) + F(CONT, b"x") )
    assert ws.recv_message() == (TEXT, b"x")


@case("5 Fragmentation", "continuation without a message fails with 1002")
def lone_continuation(port):
    fails_with(port, 1002, F(CONT, b"orphan"))


@case("5 Fragmentation", "final continuation without a message fails with 1002")
def lone_final_continuation(port):
    fails_with(port, 1002, F(CONT, b"orphan", fin=True))


@case("5 Fragmentation", "a new text frame inside a fragmented message fails with 1002")
def nested_message(port):
    fails_with(port, 1002, F(TEXT, b"start", fin=False), F(TEXT, b"again"))


@case("5 Fragmentation", "close between fragments ends the exchange with 1000")
def close_mid_message(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"half", fin=False) + F(CLOSE, struct.pack("!H", 1000)))
    ws.expect_close({1000})


# 6 UTF-8
VALID = {
    "Arabic": "السلام عليكم — مدرسة".encode(),
    "French": "élève, déjà, où".encode(),
    "emoji (4-byte)": "📚✅🕌".encode(),
    "U+FFFF and U+10FFFF": "\uffff\U0010ffff".encode(),
    "U+0000": b"\x00",
}
for name, payload in VALID.items():
    case("6 UTF-8", f"valid text: {name}")(lambda p, b=payload: echo(p, TEXT, b))
    case("6 UTF-8", f"valid text written byte by byte: {name}")(lambda p, b=payload: echo(p, TEXT, b, chunk=1))


@case("6 UTF-8", "valid text split into fragments inside code points")
def fragments_mid_codepoint(port):
    data = "مرحبا📚".encode()
    ws = RawWebSocket(port)
    frames = [F(TEXT if i == 0 else CONT, data[i:i + 1], fin=i == len(data) - 1) for i in range(len(data))]
    ws.send_raw(b"".join(frames))
    assert ws.recv_message() == (TEXT, data)


INVALID = {
    "lone continuation byte": b"\x80",
    "overlong slash": b"\xc0\xaf",
    "overlong 3-byte": b"\xe0\x80\xaf",
    "UTF-16 surrogate": b"\xed\xa0\x80",
    "above U+10FFFF": b"\xf4\x90\x80\x80",
    "0xFE": b"\xfe",
    "0xFF": b"\xff",
    "truncated at the end": "ok".encode() + b"\xe2\x82",
    "5-byte sequence": b"\xf8\x88\x80\x80\x80",
}
for name, payload in INVALID.items():
    case("6 UTF-8", f"invalid text fails with 1007: {name}")(lambda p, b=payload: fails_with(p, 1007, F(TEXT, b)))
    case("6 UTF-8", f"invalid text in fragments fails with 1007: {name}")(
        lambda p, b=payload: fails_with(p, 1007, F(TEXT, b"ok", fin=False), F(CONT, b, fin=False), F(CONT, b"", fin=True)))


@case("6 UTF-8", "fail fast: invalid byte in the first fragment closes before the message ends")
def fail_fast_fragment(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(TEXT, b"hello \xc0\xaf world", fin=False))
    ws.expect_close({1007})


@case("6 UTF-8", "fail fast: invalid byte early in a large frame closes before the frame ends")
def fail_fast_frame(port):
    ws = RawWebSocket(port)
    frame = F(TEXT, b"\xff" + b"a" * 500_000)
    ws.send_raw(frame[:1000])  # the rest is never sent
    ws.expect_close({1007})


@case("6 UTF-8", "binary messages are not checked")
def binary_not_checked(port):
    echo(port, BINARY, b"\xff\xfe\xc0\xaf")


# 7 Closing
@case("7 Closing", "close with 1000 and a reason is echoed with 1000, then TCP closes")
def close_normal(port):
    ws = RawWebSocket(port)
    ws.send(CLOSE, struct.pack("!H", 1000) + "وداعا".encode())
    ws.expect_close({1000})


@case("7 Closing", "close without payload is answered with an empty close")
def close_empty(port):
    ws = RawWebSocket(port)
    ws.send(CLOSE, b"")
    fin, rsv, opcode, payload = ws.recv_frame()
    assert opcode == CLOSE and payload == b"", f"{opcode} {payload!r}"
    ws.expect_tcp_close()


@case("7 Closing", "close with a one-byte payload fails with 1002")
def close_one_byte(port):
    fails_with(port, 1002, F(CLOSE, b"\x03"))


@case("7 Closing", "close reason of 123 bytes is accepted")
def close_long_reason(port):
    ws = RawWebSocket(port)
    ws.send(CLOSE, struct.pack("!H", 1000) + b"r" * 123)
    ws.expect_close({1000})


@case("7 Closing", "close reason with invalid UTF-8 fails with 1007")
def close_bad_reason(port):
    fails_with(port, 1007, F(CLOSE, struct.pack("!H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))


for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
    case("7 Closing", f"valid close code {code} is echoed")(
        lambda p, c=code: (lambda ws: (ws.send(CLOSE, struct.pack("!H", c)), ws.expect_close({c})))(RawWebSocket(p)))
for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
    case("7 Closing", f"invalid close code {code} fails with 1002")(
        lambda p, c=code: fails_with(p, 1002, F(CLOSE, struct.pack("!H", c))))


@case("7 Closing", "frames after the close frame are not answered")
def after_close(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(CLOSE, struct.pack("!H", 1000)) + F(TEXT, b"too late") + F(PING, b"late"))
    ws.expect_close({1000})


@case("7 Closing", "the server closes TCP after the closing handshake even if the client keeps the socket")
def server_closes_tcp(port):
    ws = RawWebSocket(port)
    ws.send(CLOSE, struct.pack("!H", 1001))
    ws.expect_close({1001})


# 9 Limits and handshake
def handshake_status(port, headers, method="GET"):
    ws = RawWebSocket(port, handshake=False)
    if method != "GET":
        ws.sock.sendall(f"{method} /ws/echo/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n".encode())
        while b"\r\n\r\n" not in ws.buffer:
            ws.buffer += ws.sock.recv(4096)
        return int(ws.buffer.split(b" ")[1]), {}
    return ws.handshake("/ws/echo/", headers)


@case("9 Limits", "Sec-WebSocket-Accept matches the RFC example key")
def rfc_accept(port):
    ws = RawWebSocket(port, handshake=False)
    status, headers = ws.handshake("/ws/echo/", {}, key="dGhlIHNhbXBsZSBub25jZQ==")
    assert status == 101 and headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", headers


@case("9 Limits", "Upgrade and Connection tokens are case-insensitive and may be listed")
def tokens(port):
    status, _ = handshake_status(port, {"Upgrade": "WebSocket", "Connection": "keep-alive, UPGRADE"})
    assert status == 101, status


@case("9 Limits", "version 8 is refused with 426 and Sec-WebSocket-Version: 13")
def bad_version(port):
    status, headers = handshake_status(port, {"Sec-WebSocket-Version": "8"})
    assert status == 426 and headers.get("sec-websocket-version") == "13", (status, headers)


@case("9 Limits", "missing key is 400")
def missing_key(port):
    status, _ = handshake_status(port, {"Sec-WebSocket-Key": None})
    assert status == 400, status


@case("9 Limits", "key that is not 16 bytes of base64 is 400")
def bad_key(port):
    status, _ = handshake_status(port, {"Sec-WebSocket-Key": "c2hvcnQ="})
    assert status == 400, status


@case("9 Limits", "plain GET without Upgrade is 426")
def no_upgrade(port):
    status, headers = handshake_status(port, {"Upgrade": None, "Connection": "keep-alive"})
    assert status == 426 and headers.get("upgrade") == "websocket", (status, headers)


@case("9 Limits", "POST upgrade is 405")
def post_upgrade(port):
    status, _ = handshake_status(port, {}, method="POST")
    assert status == 405, status


@case("9 Limits", "message over the limit (one frame) fails with 1009 before its payload is sent")
def too_big_frame(port):
    ws = RawWebSocket(port)
    ws.send_raw(F(BINARY, b"", length=(1 << 20) + 1))
    ws.expect_close({1009})


@case("9 Limits", "fragments adding up past the limit fail with 1009")
def too_big_fragments(port):
    ws = RawWebSocket(port)
    half = b"x" * ((1 << 19) + 1)
    ws.send_raw(F(TEXT, half, fin=False) + F(CONT, half))
    ws.expect_close({1009})


@case("9 Limits", "64-bit length with the high bit set fails")
def huge_length(port):
    ws = RawWebSocket(port)
    ws.send_raw(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63) + os.urandom(4))
    ws.expect_close({1002, 1009})


@case("9 Limits", "a client that stops reading is closed and its queue dropped (slow consumer)")
def slow_consumer(port):
    ws = RawWebSocket(port)
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    chunk = F(BINARY, b"s" * 60_000)
    deadline = time.time() + 20
    ws.sock.settimeout(1.0)
    try:
        while time.time() < deadline:
            ws.sock.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        return
    except socket.timeout:
        # Our send buffer is full too: the server stopped reading us, which means it closed us.
        pass
    ws.sock.settimeout(5.0)
    try:
        while True:
            data = ws.sock.recv(1 << 20)
            if not data:
                return
    except ConnectionResetError:
        return
    raise AssertionError("the server kept a client that never reads")


def run_section_cases(port, cases):
    failures = 0
    current = None
    for section, title, fn in cases:
        if section != current:
            print(f"\n[{section}]")
            current = section
        try:
            fn(port)
            print(f"  PASS  {title}")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"  FAIL  {title}: {error!r}")
            traceback.print_exc(limit=2, file=sys.stdout)
    return failures


def main():
    failures = 0
    with Hubd(HUB_MAX_MESSAGE_BYTES=1 << 20) as hubd:
        failures += run_section_cases(hubd.port, CASES)

    print("\n[9 Limits: 16 MiB messages]")
    sixteen = 16 * 1024 * 1024
    payload = os.urandom(sixteen)
    with Hubd(HUB_MAX_MESSAGE_BYTES=sixteen) as hubd:
        for title, fn in [
            ("16 MiB binary round-trips when the limit is 16 MiB", lambda p: echo(p, BINARY, payload)),
            ("16 MiB + 1 is refused with 1009", lambda p: fails_with(p, 1009, F(BINARY, b"", length=sixteen + 1))),
        ]:
            failures += run_section_cases(hubd.port, [("9 Limits", title, fn)])
    with Hubd() as hubd:
        failures += run_section_cases(hubd.port, [(
            "9 Limits", "16 MiB is refused with 1009 at the default 1 MiB limit",
            lambda p: fails_with(p, 1009, F(BINARY, b"", length=sixteen)))])

    total = len(CASES) + 3
    print(f"\n{total - failures} of {total} cases passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
