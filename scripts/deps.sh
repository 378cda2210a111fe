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
if [ "${1:-}" = test ]; then
    python3 -c "import websockets, websocket, jwt, openapi_spec_validator, schemathesis, selenium, aiosmtpd, http_ece, cryptography" 2>/dev/null || {
        echo "deps: installing Python test clients"
        python3 -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
    }
fi
exit 0
