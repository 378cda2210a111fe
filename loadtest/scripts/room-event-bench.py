#!/usr/bin/env python3
"""Events to a room of N members through POST /api/v1/events/ against a release hubd and the
local PostgreSQL, one after the other: each one's answer time, how many statements and transactions
they took (PostgreSQL's statement log), and how many notifications each stored. The figure is the
median of the events: one sample of a ~100 ms statement on this machine ranged 116-192 ms.
Usage: room-event-bench.py [members] [events] (defaults 10000 and 5)."""
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
PG = os.path.join(ROOT, "scripts", "pg-local.sh")
DB = "hub_bench"
subprocess.run([PG, "start"], check=True)
subprocess.run([PG, "fresh-db", DB], check=True, capture_output=True)
URL = subprocess.run([PG, "url", DB], check=True, capture_output=True, text=True).stdout.strip()
KEY = "bench-" + uuid.uuid4().hex


def psql(sql):
    return subprocess.run(["psql", URL, "-tAq", "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


# Every statement of this database goes to the server log (new sessions only, so before hubd starts).
psql(f"ALTER DATABASE {DB} SET log_statement = 'all'")
env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
env.update(HUB_HOST="127.0.0.1", HUB_PORT="0", HUB_JWT_SECRET="bench-secret-0123456789abcdef0123456789",
           HUB_DATABASE_URL=URL, HUB_SERVICE_KEYS=KEY, HUB_THREADS="2", HUB_LOG_LEVEL="info")
hubd = subprocess.Popen([os.path.join(ROOT, ".build", "release", "hubd")], env=env, stdout=subprocess.PIPE, text=True)
port = None
for line in hubd.stdout:
    if '"hubd started"' in line:
        port = json.loads(line)["port"]
        break
try:
    room = "class:bench"
    psql(f"INSERT INTO users (email, password, first_name, role, language) SELECT 'student' || g || '@bench.ma', '!', "
         f"'Student ' || g, 'STUDENT', (ARRAY['en','ar','fr'])[1 + g % 3] FROM generate_series(1, {N}) g")
    psql(f"INSERT INTO room_members (room, user_id) SELECT '{room}', id FROM users")
    # Warm every pool connection (each runs its session settings once), then let statistics settle.
    for _ in range(8):
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        warm.request("POST", "/api/v1/events/", body=json.dumps({"type": "system_alert", "recipients": {"users": [1]},
                     "data": {"message": "warm-up"}}), headers={"Authorization": f"Api-Key {KEY}"})
        warm.getresponse().read()
    # Count the statements of the events from the server log: log every statement of this
    # database while they run, between two markers.
    log = os.path.join(ROOT, ".data", "pg", "server.log")
    start_offset = os.path.getsize(log)
    body = json.dumps({"type": "session_cancelled", "recipients": {"rooms": [room]},
                       "data": {"halaka_name": "Bench", "date": "Friday", "time": "18:00", "reason": ""}})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times, answers, statuses = [], [], []
    for _ in range(EVENTS):
        started = time.perf_counter()
        connection.request("POST", "/api/v1/events/", body=body, headers={"Authorization": f"Api-Key {KEY}",
                                                                          "Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append(json.loads(response.read()))
        times.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status)
        time.sleep(0.2)
    time.sleep(0.5)
    psql(f"ALTER DATABASE {DB} RESET log_statement")
    with open(log, errors="replace") as handle:
        handle.seek(start_offset)
        lines = [l for l in handle if "LOG:  statement:" in l or "LOG:  execute" in l]
    statements = [l for l in lines if "ALTER DATABASE" not in l and "count(*)" not in l]
    # Statements outside BEGIN ... COMMIT are each a transaction of their own.
    transactions = sum(1 for l in statements if l.rstrip().endswith("BEGIN")) or len(statements)
    stored = [int(psql(f"SELECT count(*) FROM notifications WHERE event_id = {int(a['event_id'])}")) if "event_id" in a
              else 0 for a in answers]
    median = statistics.median(times)
    for index, (status, answer, count, ms) in enumerate(zip(statuses, answers, stored, times), 1):
        print(f"event {index}: HTTP {status}, {answer.get('count')} notifications in the answer, {count} stored, "
              f"{ms:.0f} ms to 202")
    print(f"room of {N} members, {EVENTS} events: median {median:.0f} ms to 202 (min {min(times):.0f}, "
          f"max {max(times):.0f}); {len(statements)} statements in {transactions} transaction(s) in all, "
          f"hubd's background work included (counted from PostgreSQL's statement log)")
    print(json.dumps({"scenario": "room-event", "members": N, "events": EVENTS,
                      "status": next((status for status in statuses if status != 202), 202),
                      "stored": min(stored), "ms_to_202": round(median, 1), "ms_each": [round(t, 1) for t in times],
                      "statements": len(statements), "transactions": transactions}))
finally:
    hubd.terminate()
    hubd.wait()
