#!/usr/bin/env bash
# A tour of dbiam's IAM API with the plain AWS CLI.
#
# Start a server (`go run ./cmd/dbiam serve --dev`), paste the `export` lines
# it prints (root credentials, region, AWS_ENDPOINT_URL), then run:
#
#   bash examples/iam-quickstart.sh
#
# It creates a user with an access key, shows the user refused, grants an
# inline policy, shows the user allowed, simulates the Redshift example
# policy, and cleans up after itself.
set -euo pipefail

: "${AWS_ENDPOINT_URL:?paste the export lines printed by dbiam serve --dev first}"
user="quickstart-$$"
step() { printf '\n== %s\n' "$*"; }
as_user() { AWS_ACCESS_KEY_ID=$user_key AWS_SECRET_ACCESS_KEY=$user_secret "$@"; }

cleanup() {
  aws iam delete-user-policy --user-name "$user" --policy-name list-users >/dev/null 2>&1 || true
  [ -n "${user_key:-}" ] && aws iam delete-access-key --user-name "$user" --access-key-id "$user_key" >/dev/null 2>&1 || true
  aws iam delete-user --user-name "$user" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "root creates user $user and an access key"
aws iam create-user --user-name "$user" --path /quickstart/ --query User.Arn --output text
read -r user_key user_secret < <(aws iam create-access-key --user-name "$user" \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
echo "access key $user_key"

step "the new key authenticates as the user"
as_user aws sts get-caller-identity --query Arn --output text

step "the user has no policy yet: listing users is denied"
if as_user aws iam list-users 2>&1; then echo "unexpectedly allowed"; exit 1; fi

step "root grants iam:ListUsers with an inline policy"
aws iam put-user-policy --user-name "$user" --policy-name list-users --policy-document '{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]
}'
aws iam get-user-policy --user-name "$user" --policy-name list-users --query PolicyDocument

step "now the user may list users"
as_user aws iam list-users --path-prefix /quickstart/ --query 'Users[].UserName' --output text

step "simulate the Redshift example policy for a federated session"
aws iam simulate-custom-policy \
  --policy-input-list '{"Version":"2012-10-17","Statement":[{"Sid":"GetClusterCredsStatement","Effect":"Allow","Action":"redshift:GetClusterCredentials","Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}","Condition":{"StringEquals":{"aws:userid":"AROAEXAMPLEROLEID:${redshift:DbUser}@example.com"}}}]}' \
  --action-names redshift:GetClusterCredentials \
  --resource-arns arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/alice \
  --context-entries \
    ContextKeyName=aws:userid,ContextKeyValues=AROAEXAMPLEROLEID:alice@example.com,ContextKeyType=string \
    ContextKeyName=redshift:DbUser,ContextKeyValues=alice,ContextKeyType=string \
  --query 'EvaluationResults[0].[EvalDecision,MatchedStatements[0].SourcePolicyId]' --output text

step "done; cleaning up"
