#!/usr/bin/env python3
"""`X-Forwarded-For` through hubd: from an untrusted peer it is ignored (a client cannot buy a rate
limit bucket of its own by writing addresses into it); from a proxy in `HUB_TRUSTED_PROXIES` it
names the client that rate limits and access logs use; a malformed list stops hubd at start."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from hubd import BINARY, DATABASE_URL, SECRET, Checks, Hubd, api  # noqa: E402

checks = Checks()
LIMIT = 3


def verify(port, forwarded):
    """An anonymous request (rate-limited per client address) that claims to come from `forwarded`."""
    status, _, _ = api(port, "POST", "/api/v1/auth/token/verify/", {"token": "x"},
                       headers={"X-Forwarded-For": forwarded})
    return status


def request_logs(hubd, path):
    lines = [json.loads(line) for line in hubd.lines if line.startswith("{")]
    return [line for line in lines if line.get("msg") == "request" and line.get("path") == path]


def main():
    base = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_RATE_LIMIT_ANON": LIMIT}

    def untrusted_peer_header_is_ignored():
        with Hubd(**base) as hubd:
            statuses = [verify(hubd.port, f"203.0.113.{i}") for i in range(LIMIT + 1)]
            assert statuses[-1] == 429 and 429 not in statuses[:-1], statuses
            time.sleep(0.2)
            clients = {line.get("client") for line in request_logs(hubd, "/api/v1/auth/token/verify/")}
            assert clients == {"127.0.0.1"}, clients

    def trusted_proxy_names_the_client():
        with Hubd(**base, HUB_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8") as hubd:
            statuses = [verify(hubd.port, f"198.51.100.7, 203.0.113.{i}") for i in range(LIMIT + 1)]
            assert 429 not in statuses, f"each client has its own bucket: {statuses}"
            same = [verify(hubd.port, "203.0.113.77, 10.1.1.1") for _ in range(LIMIT + 1)]
            assert same[-1] == 429 and 429 not in same[:-1], same
            time.sleep(0.2)
            clients = [line.get("client") for line in request_logs(hubd, "/api/v1/auth/token/verify/")]
            assert clients[:LIMIT + 1] == [f"203.0.113.{i}" for i in range(LIMIT + 1)], clients
            assert clients[-1] == "203.0.113.77", "a trusted hop on the right is skipped"

    def malformed_list_refused_at_start():
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        environment.update({"HUB_JWT_SECRET": SECRET, "HUB_PORT": "0", "HUB_TRUSTED_PROXIES": "proxy.local"})
        run = subprocess.run([BINARY], env=environment, capture_output=True, text=True, timeout=20)
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2 and len(lines) == 1 and "HUB_TRUSTED_PROXIES" in lines[0], (run.returncode, run.stderr)

    checks.run("X-Forwarded-For from an untrusted peer is ignored", untrusted_peer_header_is_ignored)
    checks.run("from a trusted proxy it names the client for rate limits and logs", trusted_proxy_names_the_client)
    checks.run("a malformed HUB_TRUSTED_PROXIES stops hubd with one line", malformed_list_refused_at_start)
    checks.exit()


if __name__ == "__main__":
    main()
