#!/usr/bin/env bash
# End-to-end check with the AWS SDK for JavaScript v3 (an SDK whose SigV4
# and Query-protocol code owe nothing to Go's or botocore's) against
# `dbiam serve --dev`: STS, IAM and Redshift calls, their errors, and a psql
# login with the credentials the JS SDK obtained.
# Needs: Go, Node.js with npm (the registry), PostgreSQL server binaries, psql.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "e2e-js: node and npm are required"
  exit 1
fi
work=$(mktemp -d)
# serve --dev runs PostgreSQL under $work/data; when this script runs as
# root, PostgreSQL runs as the postgres OS user, which must reach it.
chmod 711 "$work"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The SDK, at the versions package-lock.json pins.
(cd scripts/e2e-js && npm ci --no-audit --no-fund --silent)

go build -o "$work/dbiam" ./cmd/dbiam
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u DBIAM_ROOT_ACCESS_KEY_ID -u DBIAM_ROOT_SECRET_ACCESS_KEY \
  "$work/dbiam" serve --dev --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q 'psql "host=' "$work/stdout" 2>/dev/null && break
  sleep 0.1
done
if ! grep -q 'psql "host=' "$work/stdout"; then
  echo "e2e-js: dbiam serve --dev did not start with its local cluster:"; cat "$work/stdout" "$work/stderr"
  exit 1
fi

# Exactly what the banner told us to paste.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
eval "$(grep '^  export ' "$work/stdout")"
export E2E_CREDS_FILE="$work/creds"

status=0
# NODE_NO_WARNINGS: the SDK warns that Node.js 20 is near its end of support.
NODE_NO_WARNINGS=1 node scripts/e2e-js/e2e.mjs || status=1

# The credentials the JS SDK got log in, as the database user.
pgconn=$(grep -o 'psql "host=[^"]*"' "$work/stdout" | head -1 | sed 's/^psql "//; s/"$//')
if [ -s "$work/creds" ]; then
  { read -r user; read -r password; } <"$work/creds"
  got=$(PGUSER="$user" PGPASSWORD="$password" psql "$pgconn" -Atc 'select session_user || $$ $$ || current_user' 2>&1) || true
  if [ "$got" = "$user jsalice" ]; then
    echo "ok   psql with the JS SDK's credentials: session_user $user, current_user jsalice"
  else
    echo "FAIL psql with the JS SDK's credentials: $got"; status=1
  fi
  if grep -qF "$password" "$work/stderr"; then
    echo "FAIL the issued password is in the server log"; status=1
  else
    echo "ok   the issued password is not in the server log"
  fi
else
  echo "FAIL no credentials from the JS SDK"; status=1
fi
echo "e2e-js: $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
