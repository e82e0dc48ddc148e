#!/usr/bin/env bash
# End-to-end client logins with the real binaries: `dbiam serve --dev` (with
# its dev PostgreSQL cluster), `dbiam idp` with examples/idp-users.yaml, then
#   - `dbiam creds` / `dbiam connect` with the saml-form plugin (psql driven
#     through its stdin),
#   - `dbiam creds` / `dbiam connect` with the saml-browser plugin and a real
#     headless Chromium (Debian's chromium) completing the IdP's login form,
#     through BROWSER=chromium-login (samlauth/browsertest/cmd/chromium-login),
#   - the plain AWS CLI recipe of docs/aws-cli.md.
# Needs: Go, PostgreSQL server binaries, psql, the AWS CLI, python3, chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${DBIAM_TEST_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "e2e-browser: $chromium not found (apt-get install chromium)"
  exit 1
fi

work=$(mktemp -d)
# The dev cluster's PostgreSQL runs as the OS user postgres when this runs as
# root: it must be able to traverse the directory (not list it).
chmod 711 "$work"
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
  for _ in $(seq 1 300); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}
json() { # python expression on the JSON document `d` read from stdin
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

go build -o "$work/dbiam" ./cmd/dbiam
go build -o "$work/chromium-login" ./samlauth/browsertest/cmd/chromium-login

# dbiam with its dev cluster, as the dev banner says.
port=$(free_port)
env -u DBIAM_ROOT_ACCESS_KEY_ID -u DBIAM_ROOT_SECRET_ACCESS_KEY \
  "$work/dbiam" serve --dev --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
wait_for "$work/serve.out" 'aws sts get-caller-identity'
if ! grep -q 'Dev PostgreSQL cluster' "$work/serve.out"; then
  echo "e2e-browser: dbiam serve --dev started without its dev cluster:"; cat "$work/serve.out"; exit 1
fi
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
eval "$(grep '^  export ' "$work/serve.out")"
account=$(aws sts get-caller-identity --query Account --output text)
pg_host=$(sed -n 's/^Dev PostgreSQL cluster "dev" on \([^:]*\):\([0-9]*\).*/\1/p' "$work/serve.out")
pg_port=$(sed -n 's/^Dev PostgreSQL cluster "dev" on \([^:]*\):\([0-9]*\).*/\2/p' "$work/serve.out")

# The dev IdP.
idp_port=$(free_port)
idp_url="http://127.0.0.1:$idp_port"
"$work/dbiam" idp --users examples/idp-users.yaml --listen "127.0.0.1:$idp_port" --data-dir "$work/idp" \
  --account-id "$account" >"$work/idp.out" 2>"$work/idp.err" &
idp_pid=$!
wait_for "$work/idp.out" 'Sign in:'

passed=0 failed=0
ok() { passed=$((passed+1)); echo "ok   $1"; }
fail() { failed=$((failed+1)); echo "FAIL $1"; [ $# -lt 2 ] || echo "$2" | sed 's/^/    /'; }

# Provider, role and permissions (docs/dev-idp.md steps 3 and 4), and the
# group alice's DbGroups attribute names.
role_arn="arn:aws:iam::$account:role/RedshiftSSO"
provider_arn="arn:aws:iam::$account:saml-provider/DevIdP"
aws iam create-saml-provider --name DevIdP --saml-metadata-document "file://$work/idp/metadata.xml" >/dev/null
cat >"$work/trust.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "$provider_arn"},
  "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
  "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}
JSON
aws iam create-role --role-name RedshiftSSO --assume-role-policy-document "file://$work/trust.json" >/dev/null
cat >"$work/policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["redshift:GetClusterCredentials", "redshift:CreateClusterUser"],
   "Resource": ["arn:aws:redshift:us-east-1:$account:dbuser:dev/\${redshift:DbUser}", "arn:aws:redshift:us-east-1:$account:dbname:dev/dev"]},
  {"Effect": "Allow", "Action": "redshift:JoinGroup", "Resource": "arn:aws:redshift:us-east-1:$account:dbgroup:dev/analysts"},
  {"Effect": "Allow", "Action": "redshift:DescribeClusters", "Resource": "*"}]}
JSON
aws iam put-role-policy --role-name RedshiftSSO --policy-name redshift --policy-document "file://$work/policy.json"
PGPASSWORD=$(cat "$work/data/dev-cluster-admin-password") psql -X -q \
  "host=$pg_host port=$pg_port dbname=dev user=dbiam_admin sslmode=disable" -c 'CREATE ROLE analysts NOLOGIN'

# Only the SAML sign-in provides AWS credentials from here on.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
common=(--cluster-id dev --db-name dev --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1)

# 1. saml-form against the API and the login form.
for url in "$idp_url/api/saml-response" "$idp_url/login"; do
  out=$(DBIAM_IDP_PASSWORD=alice-dev-password "$work/dbiam" creds "${common[@]}" \
    --plugin saml-form --idp-url "$url" --user alice 2>&1) || true
  if user=$(json 'd["DbUser"]' <<<"$out" 2>/dev/null) && [[ "$user" == IAMA:alice:* ]]; then
    ok "dbiam creds --plugin saml-form ($url): DbUser $user from the SAML attributes"
  else
    fail "dbiam creds --plugin saml-form ($url):" "$out"
  fi
done
out=$(DBIAM_IDP_PASSWORD=alice-dev-password "$work/dbiam" creds "${common[@]}" --plugin saml-form \
  --idp-url "$idp_url/login" --user alice --format env 2>&1) || true
if grep -q "^PGUSER=IAMA:alice:" <<<"$out" && grep -q "^PGPASSWORD=" <<<"$out" && grep -q "^PGPORT=$pg_port\$" <<<"$out"; then
  ok "dbiam creds --format env"
else
  fail "dbiam creds --format env:" "$out"
fi
out=$(DBIAM_IDP_PASSWORD=wrong "$work/dbiam" creds "${common[@]}" --plugin saml-form \
  --idp-url "$idp_url/login" --user alice 2>&1) && fail "a wrong IdP password was accepted" || {
  if grep -q "refused the login" <<<"$out"; then ok "a wrong IdP password is refused"; else fail "wrong IdP password:" "$out"; fi
}

# 2. dbiam connect: psql driven through its stdin.
out=$(printf 'SELECT current_user;\n\\q\n' | DBIAM_IDP_PASSWORD=alice-dev-password "$work/dbiam" connect "${common[@]}" \
  --plugin saml-form --idp-url "$idp_url/api/saml-response" --user alice -- -X -A -t 2>&1) || true
if [ "$(tail -n 1 <<<"$out")" = alice ]; then ok "dbiam connect (saml-form): psql runs as alice"; else fail "dbiam connect (saml-form):" "$out"; fi

# 3. saml-browser with a real headless Chromium filling in the login form.
export IDP_PASSWORD=alice-dev-password
# Quoted for sh; $IDP_PASSWORD is read by chromium-login, not expanded here.
export BROWSER="$work/chromium-login -chromium $chromium -field '#username=alice' -field '#password=\$IDP_PASSWORD'"
listen="127.0.0.1:$(free_port)"
out=$("$work/dbiam" creds "${common[@]}" --plugin saml-browser --idp-url "$idp_url/login" --listen "$listen" \
  --login-timeout 90s 2>"$work/browser.err") || true
if user=$(json 'd["DbUser"]' <<<"$out" 2>/dev/null) && [[ "$user" == IAMA:alice:* ]]; then
  ok "dbiam creds --plugin saml-browser with headless chromium: DbUser $user"
else
  fail "dbiam creds --plugin saml-browser:" "$out $(cat "$work/browser.err")"
fi
listen="127.0.0.1:$(free_port)"
out=$(printf 'SELECT current_user;\n\\q\n' | "$work/dbiam" connect "${common[@]}" --plugin saml-browser \
  --idp-url "$idp_url/login" --listen "$listen" --login-timeout 90s -- -X -A -t 2>"$work/browser.err") || true
if [ "$(tail -n 1 <<<"$out")" = alice ]; then
  ok "dbiam connect --plugin saml-browser with headless chromium: psql runs as alice"
else
  fail "dbiam connect (saml-browser):" "$out $(cat "$work/browser.err")"
fi
out=$(BROWSER=true "$work/dbiam" creds "${common[@]}" --plugin saml-browser --idp-url "$idp_url/login" \
  --listen "127.0.0.1:$(free_port)" --login-timeout 2s 2>&1) && fail "saml-browser without a sign-in succeeded" || {
  if grep -q "timed out" <<<"$out"; then ok "saml-browser times out cleanly"; else fail "saml-browser timeout:" "$out"; fi
}
unset BROWSER IDP_PASSWORD

# 4. The plain AWS CLI recipe (docs/aws-cli.md).
saml=$(curl -fsS --data-urlencode username=alice --data-urlencode password=alice-dev-password \
  "$idp_url/api/saml-response" | json 'd["SAMLResponse"]')
out=$(aws sts assume-role-with-saml --role-arn "$role_arn" --principal-arn "$provider_arn" --saml-assertion "$saml" \
  --query '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken]' --output text 2>&1) || true
read -r key secret token <<<"$out" || true
if [[ "$key" == ASIA* ]]; then ok "aws sts assume-role-with-saml"; else fail "aws sts assume-role-with-saml:" "$out"; fi
export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token
read -r PGUSER PGPASSWORD < <(aws redshift get-cluster-credentials --cluster-identifier dev --db-user alice \
  --db-name dev --auto-create --db-groups analysts --query '[DbUser,DbPassword]' --output text) || true
export PGUSER PGPASSWORD
out=$(psql -X -A -t "host=$pg_host port=$pg_port dbname=dev sslmode=disable" -c 'select current_user' 2>&1) || true
if [ "$out" = alice ]; then ok "aws redshift get-cluster-credentials + psql"; else fail "AWS CLI recipe:" "$out"; fi
unset PGUSER PGPASSWORD AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

# Nothing secret in the logs.
leak=0
for s in alice-dev-password "${saml:0:80}"; do
  if grep -qF -- "$s" "$work/serve.err" "$work/idp.err" "$work/serve.out" "$work/idp.out"; then leak=1; fi
done
if [ "$leak" = 0 ]; then ok "no IdP password or SAML response in the dbiam and IdP logs"; else fail "a secret reached a log"; fi

echo "e2e-browser: $passed passed, $failed failed"
[ "$failed" = 0 ]
