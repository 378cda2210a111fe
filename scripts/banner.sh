#!/bin/sh
# The first-run banner of `make run`: where things are, and one command that puts a notification
# in the demo's bell. Usage: scripts/banner.sh PORT [DATA_DIR]
set -eu
port="${1:-8000}"
data="${2:-.data}"
base="http://localhost:$port"
cat <<BANNER

  hub is starting on $base
    demo (the bell)   $base/demo/
    admin console     $base/admin/
    API schema        $base/api/schema/
    metrics           $base/metrics

  Sign in to /demo/ as admin@localhost with the password in $data/admin-password.
  Service key (for backends): $data/service-key. Then send yourself a notification:

curl -s -X POST $base/api/v1/events/ -H "Authorization: Api-Key \$(cat $data/service-key)" -H 'Content-Type: application/json' -d '{"type": "system_alert", "recipients": {"roles": ["ADMIN"]}, "data": {"message": "Hello from the hub"}}'

BANNER
