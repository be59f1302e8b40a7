// `... | npm run -s whoami`: reads credential_process JSON on stdin and calls GetCallerIdentity on the
// sandbox STS with them (SigV4 via aws4fetch), printing the assumed-role ARN. Proves the credentials work.
import { AwsClient } from "aws4fetch";
import { SANDBOX_PORT } from "../../src/cli/constants.ts";

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
let credentials: { AccessKeyId?: unknown; SecretAccessKey?: unknown; SessionToken?: unknown };
try {
  credentials = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof credentials;
} catch {
  console.error("whoami: stdin is not JSON (did the broker answer an error?)");
  process.exit(1);
}
const { AccessKeyId, SecretAccessKey, SessionToken } = credentials;
if (typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string" || typeof SessionToken !== "string") {
  console.error(`whoami: not credentials: ${JSON.stringify(credentials)}`);
  process.exit(1);
}
const client = new AwsClient({
  accessKeyId: AccessKeyId,
  secretAccessKey: SecretAccessKey,
  sessionToken: SessionToken,
  service: "sts",
  region: "us-east-1",
  retries: 0,
});
const sts = process.env.SANDBOX_STS_URL ?? `http://127.0.0.1:${SANDBOX_PORT}/sts`;
const response = await client.fetch(sts, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
  body: "Action=GetCallerIdentity&Version=2011-06-15",
});
const xml = await response.text();
const arn = /<Arn>([^<]+)<\/Arn>/.exec(xml)?.[1];
if (!response.ok || arn === undefined) {
  console.error(`whoami: GetCallerIdentity failed (${response.status}): ${xml}`);
  process.exit(1);
}
console.log(arn);
