#!/usr/bin/env python3
"""Two independent WebSocket clients from PyPI (websockets, websocket-client) against hubd's
/ws/echo and /ws/broadcast: what real programs see."""
import asyncio
import os
import sys

import websocket  # websocket-client
import websockets

sys.path.insert(0, os.path.dirname(__file__))
from hubd import Hubd, RawWebSocket  # noqa: E402

failures = []


def check(name, fn):
    try:
        fn()
        print(f"  PASS  {name}")
    except Exception as error:  # noqa: BLE001
        failures.append(name)
        print(f"  FAIL  {name}: {error!r}")


def main():
    with Hubd(HUB_HEARTBEAT_INTERVAL=1, HUB_HEARTBEAT_TIMEOUT=3) as hubd:
        url = f"ws://127.0.0.1:{hubd.port}/ws/echo/"

        async def websockets_echo():
            async with websockets.connect(url, max_size=None) as ws:
                for message in ["السلام عليكم", "élève 📚", "x" * 70000]:
                    await ws.send(message)
                    assert await ws.recv() == message
                await ws.send(bytes(range(256)))
                assert await ws.recv() == bytes(range(256))
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 5)
            assert ws.close_code == 1000, ws.close_code

        async def websockets_fragmented():
            async with websockets.connect(url) as ws:
                await ws.send(["مر", "حبا", " fragments"])
                assert await ws.recv() == "مرحبا fragments"

        async def websockets_server_ping_keeps_alive():
            # The library answers pings by itself; the server pings after 1 s of silence and
            # must keep a client that answers them past the 3 s timeout.
            async with websockets.connect(url, ping_interval=None) as ws:
                await asyncio.sleep(4.5)
                await ws.send("still here")
                assert await ws.recv() == "still here"

        def websocket_client_echo():
            ws = websocket.create_connection(url, timeout=10)
            ws.send("مدرسة")
            assert ws.recv() == "مدرسة"
            ws.send_binary(b"\x00\x01\x02")
            assert ws.recv() == b"\x00\x01\x02"
            ws.ping("hello")
            opcode, frame = ws.recv_data_frame(control_frame=True)
            assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"hello", (opcode, frame.data)
            ws.close(status=1000)

        def websocket_client_rejected_version():
            try:
                websocket.create_connection(url, timeout=5, header=["Sec-WebSocket-Version: 12"],
                                            suppress_origin=True)
            except websocket.WebSocketBadStatusException as error:
                assert error.status_code in (426, 400), error.status_code
                return
            raise AssertionError("version 12 accepted")

        def silent_client_is_closed_after_timeout():
            # websocket-client answers pings by itself, so the silent client is a raw socket.
            ws = RawWebSocket(hubd.port)
            saw_ping = False
            while True:
                fin, rsv, opcode, payload = ws.recv_frame()
                if opcode == 0x9:
                    saw_ping = True
                    continue
                assert opcode == 0x8, opcode
                code = int.from_bytes(payload[:2], "big")
                assert saw_ping, "no ping before the timeout"
                assert code == 1001, code
                ws.expect_tcp_close()
                return

        def broadcast_reaches_everyone():
            burl = f"ws://127.0.0.1:{hubd.port}/ws/broadcast/"
            clients = [websocket.create_connection(burl, timeout=10) for _ in range(20)]
            clients[0].send("إعلان للجميع")
            for client in clients:
                assert client.recv() == "إعلان للجميع"
            for client in clients:
                client.close()

        print("[websockets]")
        check("echo text (Arabic, emoji, 70 kB), binary, ping", lambda: asyncio.run(websockets_echo()))
        check("fragmented message", lambda: asyncio.run(websockets_fragmented()))
        check("server pings keep a quiet but responsive client", lambda: asyncio.run(websockets_server_ping_keeps_alive()))
        print("[websocket-client]")
        check("echo text, binary, ping/pong", websocket_client_echo)
        check("version 12 refused", websocket_client_rejected_version)
        check("silent client is pinged, then closed with 1001", silent_client_is_closed_after_timeout)
        check("broadcast to 20 clients", broadcast_reaches_everyone)

    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
