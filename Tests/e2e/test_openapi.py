#!/usr/bin/env python3
"""The OpenAPI document: served at /api/schema/, valid OpenAPI 3.1 (openapi-spec-validator), every
documented path routed, and schemathesis driving the running server with generated requests
(signed in, and as a platform backend) finds no server error (5xx)."""
import os
import subprocess
import sys
import uuid

from openapi_spec_validator import validate

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, api, register_user  # noqa: E402

checks = Checks()
KEY = "svc-" + uuid.uuid4().hex


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=1000000,
              HUB_RATE_LIMIT_ANON=1000000, HUB_RATE_LIMIT_USER=1000000) as hubd:
        port = hubd.port
        token = register_user(port, "Fuzz")["token"]
        state = {}

        def served_and_valid():
            status, headers, document = api(port, "GET", "/api/schema/")
            assert status == 200 and headers["content-type"].startswith("application/json")
            validate(document)
            assert document["openapi"].startswith("3.1")
            state["document"] = document

        def every_path_is_routed():
            for path, operations in state["document"]["paths"].items():
                concrete = path.replace("{room}", "class:5")
                for name in ("{id}", "{user_id}", "{student_id}", "{parent_id}"):
                    concrete = concrete.replace(name, "1")
                for method in operations:
                    status, _, _ = api(port, method.upper(), concrete, {} if method != "get" else None, token=token)
                    assert status not in (404, 405) or "{" in path, (method, path, status)
                    assert status < 500, (method, path, status)

        def schemathesis_finds_no_server_error():
            for header in (f"Authorization: Bearer {token}", f"Authorization: Api-Key {KEY}"):
                beside = os.path.join(os.path.dirname(sys.executable), "schemathesis")
                command = [beside if os.path.exists(beside) else "schemathesis", "run", f"http://127.0.0.1:{port}/api/schema/", "--checks", "not_a_server_error",
                           "--max-examples", os.environ.get("HUB_FUZZ_EXAMPLES", "25"), "--header", header,
                           "--request-timeout", "10", "--suppress-health-check", "all", "--phases", "examples,fuzzing"]
                result = subprocess.run(command, capture_output=True, text=True, timeout=600)
                tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
                print(tail)
                assert result.returncode == 0, "schemathesis found failures (see above)"

        print("[openapi]")
        checks.run("/api/schema/ is a valid OpenAPI 3.1 document", served_and_valid)
        checks.run("every documented path is routed and answers below 500", every_path_is_routed)
        checks.run("schemathesis: no server error with a user token and with a service key", schemathesis_finds_no_server_error)
    checks.exit()


if __name__ == "__main__":
    main()
