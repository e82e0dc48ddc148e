#!/usr/bin/env bash
# End-to-end SAML federation with the real AWS CLI: `dbiam serve --dev`,
# `dbiam idp` with examples/idp-users.yaml, the provider and role registered
# with `aws iam`, a response from the IdP (curl), `aws sts
# assume-role-with-saml` (unsigned), then `aws sts get-caller-identity`
# with the temporary credentials. This is docs/dev-idp.md, automated.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
server_pid= idp_pid=
stop() { # pid
  if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  stop "$idp_pid"
  stop "$server_pid"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # file, pattern
  for _ in $(seq 1 150); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}
json() { # python expression on the JSON document `d` read from stdin
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

go build -o "$work/dbiam" ./cmd/dbiam

# dbiam itself, as the dev banner says.
port=$(free_port)
env -u DBIAM_ROOT_ACCESS_KEY_ID -u DBIAM_ROOT_SECRET_ACCESS_KEY \
  "$work/dbiam" serve --dev --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
wait_for "$work/serve.out" 'aws sts get-caller-identity'
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
eval "$(grep '^  export ' "$work/serve.out")"
account=$(aws sts get-caller-identity --query Account --output text)

# The dev IdP.
idp_port=$(free_port)
idp_url="http://127.0.0.1:$idp_port"
start_idp() {
  "$work/dbiam" idp --users examples/idp-users.yaml --listen "127.0.0.1:$idp_port" --data-dir "$work/idp" \
    --account-id "$account" >"$work/idp.out" 2>>"$work/idp.err" &
  idp_pid=$!
  wait_for "$work/idp.out" 'Sign in:'
}
start_idp

passed=0 failed=0
ok() { passed=$((passed+1)); echo "ok   $1"; }
fail() { failed=$((failed+1)); echo "FAIL $1"; [ $# -lt 2 ] || echo "$2" | sed 's/^/    /'; }
check() { # name, expected substring, command...
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1) || true
  if grep -qF -- "$want" <<<"$out"; then ok "$name"; else fail "$name: want '$want', got:" "$out"; fi
}

role_arn="arn:aws:iam::$account:role/RedshiftSSO"
provider_arn="arn:aws:iam::$account:saml-provider/DevIdP"

check "GET /metadata serves the IdP metadata" "entityID=\"$idp_url/metadata\"" curl -fsS "$idp_url/metadata"
if curl -fsS "$idp_url/metadata" | cmp -s - "$work/idp/metadata.xml"; then ok "the metadata file is what GET /metadata serves"; else fail "metadata file differs"; fi

# Register the provider with exactly the command the IdP printed.
register=$(grep -o 'aws iam create-saml-provider .*' "$work/idp.out")
check "the printed create-saml-provider command registers DevIdP" "$provider_arn" $register

cat >"$work/trust.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "$provider_arn"},
    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
    "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
  }]
}
JSON
check "create-role RedshiftSSO trusting the provider" "$role_arn" \
  aws iam create-role --role-name RedshiftSSO --assume-role-policy-document "file://$work/trust.json"

check "wrong password: 401 with a generic message" '"Error":"Invalid username or password."' \
  curl -sS --data-urlencode username=alice --data-urlencode password=wrong "$idp_url/api/saml-response"
check "the login form refuses a non-loopback acs" "400" \
  curl -sS -o /dev/null -w '%{http_code}' "$idp_url/login?acs=https://evil.example.com/saml"

# alice: a response from the API, traded with the CLI, unsigned (no credentials at all).
api=$(curl -fsS --data-urlencode username=alice --data-urlencode password=alice-dev-password \
  --data-urlencode role=RedshiftSSO "$idp_url/api/saml-response")
assertion=$(json 'd["SAMLResponse"]' <<<"$api")
check "the API lists the role pair" "$role_arn,$provider_arn" json 'd["Roles"]' <<<"$api"
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY aws sts assume-role-with-saml \
  --role-arn "$role_arn" --principal-arn "$provider_arn" --saml-assertion "$assertion" 2>&1) || true
if grep -qF "arn:aws:sts::$account:assumed-role/RedshiftSSO/alice" <<<"$out"; then
  ok "aws sts assume-role-with-saml (unsigned) returns the assumed role"
else
  fail "assume-role-with-saml for alice:" "$out"
fi
creds() { # variable assignments from an AssumeRoleWithSAML output
  json '"AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s" % (d["Credentials"]["AccessKeyId"], d["Credentials"]["SecretAccessKey"], d["Credentials"]["SessionToken"])'
}
if c=$(creds <<<"$out" 2>/dev/null); then
  check "get-caller-identity with alice's credentials" "\"Arn\": \"arn:aws:sts::$account:assumed-role/RedshiftSSO/alice\"" \
    env $c aws sts get-caller-identity
else
  fail "no credentials in alice's assume-role-with-saml output"
fi
check "the same response again is a replay" "InvalidIdentityToken" \
  aws sts assume-role-with-saml --role-arn "$role_arn" --principal-arn "$provider_arn" --saml-assertion "$assertion"

# bob: the HTML login, and the command the page shows, pasted as is.
page=$(curl -fsS --data-urlencode username=bob --data-urlencode password=bob-dev-password \
  --data-urlencode role=RedshiftSSO "$idp_url/login")
cmd=$(python3 -c 'import html,re,sys; print(html.unescape(re.search(r"<pre>([^<]+)</pre>", sys.stdin.read()).group(1)))' <<<"$page")
case "$cmd" in
  "aws sts assume-role-with-saml --role-arn $role_arn --principal-arn $provider_arn --saml-assertion "*) ok "the login page shows the ready-to-paste command" ;;
  *) fail "command on the page: $cmd" ;;
esac
out=$(eval "$cmd" 2>&1) || true
if grep -qF "arn:aws:sts::$account:assumed-role/RedshiftSSO/bob.builder" <<<"$out" && grep -qF '"SourceIdentity": "bob@example.com"' <<<"$out"; then
  ok "the pasted command works (session name, source identity)"
else
  fail "pasted command for bob:" "$out"
fi
if c=$(creds <<<"$out" 2>/dev/null); then
  check "get-caller-identity with bob's credentials" "assumed-role/RedshiftSSO/bob.builder" env $c aws sts get-caller-identity
else
  fail "no credentials in bob's output"
fi

# Nothing secret in the IdP's log.
leak=0
for s in alice-dev-password bob-dev-password "${assertion:0:80}"; do
  if grep -qF -- "$s" "$work/idp.err" "$work/idp.out"; then leak=1; fi
done
if [ "$leak" = 0 ] && grep -q 'SAML response issued' "$work/idp.err"; then ok "no password or SAML response in the IdP log"; else fail "IdP log:" "$(cat "$work/idp.err")"; fi

# Graceful shutdown, and the same metadata after a restart (same key).
kill -TERM "$idp_pid"
if wait "$idp_pid"; then ok "dbiam idp exits cleanly on SIGTERM"; else fail "dbiam idp exit status on SIGTERM"; fi
idp_pid=
cp "$work/idp/metadata.xml" "$work/metadata.before"
start_idp
if curl -fsS "$idp_url/metadata" | cmp -s - "$work/metadata.before"; then ok "the metadata is the same after a restart"; else fail "the metadata changed after a restart"; fi
if [ "$(stat -c %a "$work/idp/signing.pem")" = 600 ]; then ok "signing.pem is mode 0600"; else fail "signing.pem mode $(stat -c %a "$work/idp/signing.pem")"; fi

echo "e2e-idp: $passed passed, $failed failed"
[ "$failed" = 0 ]
