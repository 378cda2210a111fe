#!/bin/sh
# Installs what building and testing the hub needs, when it is missing (Debian/Ubuntu).
# Usage: scripts/deps.sh [test]
set -eu
need=""
for pkg in libssl-dev openssl libpq-dev postgresql pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "deps: installing$need"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "deps: missing Debian packages:$need (run: sudo apt-get install$need)" >&2
        exit 1
    fi
fi
if [ "${1:-}" = test ] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "deps: installing chromium and chromium-driver (browser tests)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
    else
        echo "deps: missing chromium and chromium-driver (browser tests)" >&2
        exit 1
    fi
fi
if [ "${1:-}" = test ] && ! command -v tsc >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "deps: installing node-typescript (tsc checks clients/js/hub-client.d.ts)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq node-typescript >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq node-typescript >/dev/null; }
    else
        echo "deps: missing node-typescript (run: sudo apt-get install node-typescript)" >&2
        exit 1
    fi
fi
if [ "${1:-}" = test ]; then
    python3 -c "import websockets, websocket, jwt, openapi_spec_validator, schemathesis, selenium, aiosmtpd, http_ece, cryptography, requests, django, standardwebhooks, mypy, yaml" 2>/dev/null || {
        echo "deps: installing Python test clients"
        python3 -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
    }
    # The Python SDK under test, from this tree: reinstalled whenever its sources changed.
    sdk=$(find clients/python/pyproject.toml clients/python/src -type f ! -path '*.egg-info*' ! -name '*.pyc' \
          | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-64)
    if [ "$(cat .data/python-sdk.installed 2>/dev/null)" != "$sdk" ] || ! python3 -c "import hub.django" 2>/dev/null; then
        echo "deps: installing the Python SDK (clients/python)"
        python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore ./clients/python
        mkdir -p .data && echo "$sdk" > .data/python-sdk.installed
    fi
fi
exit 0
