#!/usr/bin/env python3
"""Runs every end-to-end suite written in Python against a real hubd (HUBD_BINARY)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))

failed = []
for suite in SUITES:
    print(f"== {suite}", flush=True)
    if subprocess.call([sys.executable, os.path.join(HERE, suite)]) != 0:
        failed.append(suite)
if failed:
    print("FAILED: " + ", ".join(failed))
    sys.exit(1)
print(f"all {len(SUITES)} Python end-to-end suites passed")
