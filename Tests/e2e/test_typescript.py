#!/usr/bin/env python3
"""The TypeScript declarations of the browser client: `tsc --noEmit` (Debian's node-typescript)
passes on clients/js/hub-client.d.ts with Tests/typescript/usage.ts, and fails on every line of
misuse.ts once the declarations are replaced by `any` (so the check can fail); every method and
export of hub-client.js is declared; hubd serves the .d.ts beside the module."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from hubd import Checks, Hubd  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DTS = os.path.join(ROOT, "clients", "js", "hub-client.d.ts")
JS = os.path.join(ROOT, "clients", "js", "hub-client.js")
checks = Checks()


def tsc(project):
    return subprocess.run(["tsc", "--noEmit", "-p", project], capture_output=True, text=True, timeout=300)


def declarations_pass():
    """tsc --noEmit passes on the declarations, the usage file and the misuse file's expected errors."""
    version = subprocess.run(["tsc", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("Version "), version
    result = tsc(os.path.join(ROOT, "Tests", "typescript"))
    assert result.returncode == 0, result.stdout + result.stderr


def misuse_fails_without_types():
    """With `any` in place of the declarations, every @ts-expect-error of misuse.ts is unused: tsc fails."""
    expected = open(os.path.join(ROOT, "Tests", "typescript", "misuse.ts")).read().count("@ts-expect-error:")
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(os.path.join(ROOT, "Tests", "typescript"), os.path.join(scratch, "Tests", "typescript"))
        os.makedirs(os.path.join(scratch, "clients", "js"))
        with open(os.path.join(scratch, "clients", "js", "hub-client.d.ts"), "w") as f:
            f.write("export declare const HubClient: any;\n" + "".join(
                f"export type {name} = any;\n" for name in ("HubNotification", "PresenceMember", "SavedPushSubscription")))
        result = tsc(os.path.join(scratch, "Tests", "typescript"))
    unused = [line for line in result.stdout.splitlines() if "misuse.ts" in line and "TS2578" in line]
    assert result.returncode != 0 and len(unused) == expected, result.stdout


def everything_declared():
    """Every export of hub-client.js and every public method of HubClient has a declaration."""
    source, declared = open(JS).read(), open(DTS).read()
    exports = re.findall(r"^export (?:class|function|const|let) (\w+)", source, re.M)
    methods = re.findall(r"^  (?:async )?([a-z]\w*)\(", source, re.M)
    assert exports == ["HubClient"] and len(methods) >= 9, (exports, methods)
    for name in exports:
        assert re.search(rf"^export (?:declare )?(?:class|function|const) {name}\b", declared, re.M), name
    missing = [m for m in methods if m != "constructor" and not re.search(rf"^  {m}\(", declared, re.M)]
    assert not missing, missing
    events = set(re.findall(r'#emit\("(\w+)"', source))
    declared_events = set(re.findall(r"^  (\w+): CustomEvent<", declared, re.M))
    assert events == declared_events, (events, declared_events)


def served_beside_the_module():
    """hubd serves /static/hub-client.d.ts, byte for byte, beside /static/hub-client.js."""
    with Hubd() as hubd:
        import http.client
        for name in ("hub-client.js", "hub-client.d.ts"):
            connection = http.client.HTTPConnection("127.0.0.1", hubd.port, timeout=10)
            connection.request("GET", f"/static/{name}")
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert response.status == 200, (name, response.status)
            assert body == open(os.path.join(ROOT, "clients", "js", name), "rb").read(), name
            expected = "application/typescript" if name.endswith(".ts") else "text/javascript"
            assert response.getheader("Content-Type").startswith(expected), (name, response.getheader("Content-Type"))


checks.run("declarations_pass", declarations_pass)
checks.run("misuse_fails_without_types", misuse_fails_without_types)
checks.run("everything_declared", everything_declared)
checks.run("served_beside_the_module", served_beside_the_module)
checks.exit()
