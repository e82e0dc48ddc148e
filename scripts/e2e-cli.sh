#!/usr/bin/env bash
# End-to-end check with the real AWS CLI against `dbiam serve --dev`:
# the dev banner's commands work, and signature failures come back with
# the AWS error codes the CLI reports.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/dbiam" ./cmd/dbiam
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u DBIAM_ROOT_ACCESS_KEY_ID -u DBIAM_ROOT_SECRET_ACCESS_KEY \
  "$work/dbiam" serve --dev --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q 'aws sts get-caller-identity' "$work/stdout" 2>/dev/null && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null

# Use exactly what the banner told us to paste.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
eval "$(grep '^  export ' "$work/stdout")"

passed=0 failed=0
check() { # name, expected substring, command...
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1) || true
  if grep -qF -- "$want" <<<"$out"; then
    passed=$((passed+1)); echo "ok   $name"
  else
    failed=$((failed+1)); echo "FAIL $name: want '$want', got:"; echo "$out" | sed 's/^/    /'
  fi
}

check "get-caller-identity prints the root ARN" ":root\"" aws sts get-caller-identity
check "get-caller-identity prints the account" "\"Account\": \"" aws sts get-caller-identity
check "--endpoint-url works too" ":root\"" env -u AWS_ENDPOINT_URL aws --endpoint-url "http://127.0.0.1:$port" sts get-caller-identity
check "wrong secret" "SignatureDoesNotMatch" env AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong1 aws sts get-caller-identity
check "unknown key" "InvalidClientTokenId" env AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN12 aws sts get-caller-identity
# Sign 20 minutes in the past: shift botocore's clock inside the CLI process.
cat >"$work/sitecustomize.py" <<'PY'
import datetime
import botocore.auth
_now = botocore.auth.get_current_datetime
botocore.auth.get_current_datetime = lambda *a, **k: _now(*a, **k) - datetime.timedelta(minutes=20)
PY
check "request dated 20 minutes ago" "RequestExpired" env PYTHONPATH="$work" aws sts get-caller-identity
check "garbage Authorization header" "IncompleteSignature" \
  curl -sS -X POST -H 'Authorization: AWS4-HMAC-SHA256 garbage' -H 'Content-Type: application/x-www-form-urlencoded' \
  --data 'Action=GetCallerIdentity&Version=2011-06-15' "http://127.0.0.1:$port/"
check "unsigned request" "MissingAuthenticationToken" \
  curl -sS -X POST --data 'Action=GetCallerIdentity&Version=2011-06-15' "http://127.0.0.1:$port/"

# IAM with the CLI: the documented quickstart, and bad input as a new user would try it.
check "IAM quickstart script (examples/iam-quickstart.sh)" "allowed	PolicyInputList.1" bash examples/iam-quickstart.sh
check "quickstart: the user is refused before the policy" "AccessDenied" bash examples/iam-quickstart.sh
check "illegal user name" "ValidationError" aws iam create-user --user-name 'bad name!'
check "malformed policy document" "MalformedPolicyDocument" \
  aws iam create-policy --policy-name bad --policy-document '{"Version":"2012-10-17","Statement":{"effect":"Allow"}}'
check "unknown user" "NoSuchEntity" aws iam get-user --user-name nobody-here

# Secrets never reach the log.
if grep -qF "$AWS_SECRET_ACCESS_KEY" "$work/stderr"; then
  failed=$((failed+1)); echo "FAIL the root secret appears in the server log"
else
  passed=$((passed+1)); echo "ok   the root secret is not in the server log"
fi

# Graceful shutdown on SIGTERM.
kill -TERM "$server_pid"
if wait "$server_pid"; then passed=$((passed+1)); echo "ok   clean exit on SIGTERM"; else failed=$((failed+1)); echo "FAIL exit status on SIGTERM"; fi
server_pid=

echo "e2e-cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
