// dbiam against the AWS SDK for JavaScript v3: STS, IAM and Redshift calls
// signed by the JS SDK's own SigV4 and Query-protocol code. Run by
// scripts/e2e-js.sh with the environment `dbiam serve --dev` prints.
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from "@aws-sdk/client-sts";
import { IAMClient, CreateUserCommand, PutUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, GetUserCommand } from "@aws-sdk/client-iam";
import { RedshiftClient, GetClusterCredentialsCommand, DescribeClustersCommand } from "@aws-sdk/client-redshift";
import { writeFileSync } from "node:fs";

const region = process.env.AWS_REGION;
const endpoint = process.env.AWS_ENDPOINT_URL;
let passed = 0, failed = 0;
const ok = (name) => { passed++; console.log(`ok   ${name}`); };
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${why}`); };
async function check(name, fn) {
  try { const why = await fn(); why ? fail(name, why) : ok(name); } catch (e) { fail(name, `${e.name}: ${e.message}`); }
}
async function refused(name, code, fn) {
  try { await fn(); fail(name, `succeeded, want ${code}`); } catch (e) { e.name === code ? ok(name) : fail(name, `${e.name}: ${e.message}`); }
}
const creds = (k) => ({ accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey, sessionToken: k.SessionToken });

// The root, from the environment alone (AWS_ENDPOINT_URL included).
const sts = new STSClient({});
const iam = new IAMClient({});
let account = "";
await check("GetCallerIdentity as root (AWS_ENDPOINT_URL from the environment)", async () => {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  account = out.Account;
  return out.Arn.endsWith(":root") ? "" : `Arn ${out.Arn}`;
});

// IAM: a user with a policy and a key.
const policy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["redshift:GetClusterCredentials", "redshift:CreateClusterUser"],
      Resource: [`arn:aws:redshift:${region}:${account}:dbuser:dev/jsalice`, `arn:aws:redshift:${region}:${account}:dbname:dev/dev`] },
    { Effect: "Allow", Action: ["redshift:DescribeClusters", "sts:AssumeRole"], Resource: "*" },
  ],
});
let key;
await check("IAM CreateUser, PutUserPolicy, CreateAccessKey", async () => {
  await iam.send(new CreateUserCommand({ UserName: "js-alice", Tags: [{ Key: "sdk", Value: "javascript" }] }));
  await iam.send(new PutUserPolicyCommand({ UserName: "js-alice", PolicyName: "db", PolicyDocument: policy }));
  key = (await iam.send(new CreateAccessKeyCommand({ UserName: "js-alice" }))).AccessKey;
  const u = (await iam.send(new GetUserCommand({ UserName: "js-alice" }))).User;
  return u.Tags?.[0]?.Value === "javascript" ? "" : `user ${JSON.stringify(u)}`;
});
await refused("IAM CreateUser with an illegal name", "ValidationError", () => iam.send(new CreateUserCommand({ UserName: "bad name!" })));

// Redshift as the user, with an explicit endpoint this time.
const rs = new RedshiftClient({ endpoint, credentials: creds(key) });
await check("GetClusterCredentials as the user (AutoCreate, DbName)", async () => {
  const out = await rs.send(new GetClusterCredentialsCommand({ ClusterIdentifier: "dev", DbUser: "jsalice", DbName: "dev", AutoCreate: true, DurationSeconds: 900 }));
  if (!out.DbUser.startsWith("IAMA:jsalice:") || out.DbPassword.length < 32 || !(out.Expiration instanceof Date)) return JSON.stringify(out);
  writeFileSync(process.env.E2E_CREDS_FILE, `${out.DbUser}\n${out.DbPassword}\n`, { mode: 0o600 });
  return "";
});
await refused("GetClusterCredentials for another database user", "AccessDenied",
  () => rs.send(new GetClusterCredentialsCommand({ ClusterIdentifier: "dev", DbUser: "bob" })));
await refused("GetClusterCredentials with DurationSeconds 899", "InvalidParameterValue",
  () => rs.send(new GetClusterCredentialsCommand({ ClusterIdentifier: "dev", DbUser: "jsalice", DurationSeconds: 899 })));
// Redshift's code ClusterNotFound is the SDK's modeled ClusterNotFoundFault.
await refused("GetClusterCredentials on an unknown cluster", "ClusterNotFoundFault",
  () => rs.send(new GetClusterCredentialsCommand({ ClusterIdentifier: "nope", DbUser: "jsalice" })));
await check("DescribeClusters returns the endpoint", async () => {
  const c = (await rs.send(new DescribeClustersCommand({ ClusterIdentifier: "dev" }))).Clusters[0];
  return c.Endpoint?.Port > 0 && c.Endpoint?.Address ? "" : JSON.stringify(c);
});

// STS: a role session, then calls signed with its session token.
await check("AssumeRole, then GetCallerIdentity with the session", async () => {
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:user/js-alice` }, Action: "sts:AssumeRole" }] });
  await iam.send(new CreateRoleCommand({ RoleName: "JsReader", AssumeRolePolicyDocument: trust }));
  const userSTS = new STSClient({ endpoint, credentials: creds(key) });
  const s = (await userSTS.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/JsReader`, RoleSessionName: "js" }))).Credentials;
  const who = await new STSClient({ endpoint, credentials: creds(s) }).send(new GetCallerIdentityCommand({}));
  return who.Arn === `arn:aws:sts::${account}:assumed-role/JsReader/js` ? "" : `Arn ${who.Arn}`;
});
await refused("a wrong secret", "SignatureDoesNotMatch",
  () => new STSClient({ endpoint, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: "wrong".repeat(8) } }).send(new GetCallerIdentityCommand({})));
await refused("an unknown access key", "InvalidClientTokenId",
  () => new STSClient({ endpoint, credentials: { accessKeyId: "AKIAUNKNOWNUNKNOWN12", secretAccessKey: "x".repeat(40) } }).send(new GetCallerIdentityCommand({})));

console.log(`e2e-js (node): ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
