// `node_baseline` in `npm run bench`: the same exchange written the conventional Node way, for comparison
// only. Express, jsonwebtoken with jwks-rsa (JWKS fetched once, then cached), the AWS SDK's STS client. What the broker
// does and this does not: single use of each token, rate limits (address and repository), the kill switch, guards,
// the audit event and log line, lossless session tags, input size caps. Run by the bench as its own Node process
// (start-broker.ts), its outbound requests going to the bench's fakes over loopback, as the broker's do.
//
// Configuration: one JSON object in the environment variable NODE_BASELINE (NodeBaselineConfig). Prints
// `listening <port>` on stdout once it accepts requests. Never used outside the bench; no secret is real.
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import express from "express";
import jwt, { type JwtHeader, type JwtPayload, type SigningKeyCallback } from "jsonwebtoken";
import { JwksClient } from "jwks-rsa";

export interface NodeBaselineConfig {
  issuer: string;
  audience: string;
  /**
   * The JWKS as the issuer publishes it, and where the fakes listen (host:port): fetched there, origin in
   * `forwardedOriginHeader`.
   */
  jwksUri: string;
  stsOrigin: string;
  fakesAddress: string;
  forwardedOriginHeader: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** What the fleet rule grants (load-shape.ts `repositoryClaims`): this owner, through this reusable workflow. */
  owner: string;
  jobWorkflowRef: string;
  roleArn: string;
}

const config = JSON.parse(process.env.NODE_BASELINE ?? "") as NodeBaselineConfig;
const jwksUri = new URL(config.jwksUri);

const jwks = new JwksClient({
  jwksUri: `http://${config.fakesAddress}${jwksUri.pathname}`,
  requestHeaders: { [config.forwardedOriginHeader]: jwksUri.origin },
  cache: true,
  rateLimit: false,
  timeout: 5_000,
});

const sts = new STSClient({
  region: config.region,
  credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
  maxAttempts: 3,
});
// Signed for the real STS host, then sent to the fakes' socket (the origin in a header the fakes restore), as the
// broker's requests are by the bench's forwarder Worker.
const [fakesHost, fakesPort] = config.fakesAddress.split(":") as [string, string];
sts.middlewareStack.add(
  (next) => async (args) => {
    const request = args.request as {
      protocol: string;
      hostname: string;
      port?: number;
      headers: Record<string, string>;
    };
    request.protocol = "http:";
    request.hostname = fakesHost;
    request.port = Number(fakesPort);
    request.headers[config.forwardedOriginHeader] = config.stsOrigin;
    return next(args);
  },
  { step: "deserialize", name: "benchForwardToFakes" },
);

function signingKey(header: JwtHeader, callback: SigningKeyCallback): void {
  jwks.getSigningKey(header.kid).then(
    (key) => callback(null, key.getPublicKey()),
    (error: Error) => callback(error),
  );
}

function verify(token: string): Promise<JwtPayload> {
  return new Promise((resolve, reject) => {
    jwt.verify(
      token,
      signingKey,
      { algorithms: ["RS256"], issuer: config.issuer, audience: config.audience },
      (error, payload) => {
        if (error !== null || payload === undefined || typeof payload === "string")
          reject(error ?? new Error("no payload"));
        else resolve(payload);
      },
    );
  });
}

const sessionSafe = (text: string) => text.replace(/[^\w+=,.@-]/g, "-");

const app = express();
app.disable("x-powered-by");
app.post("/v1/credentials", async (req, res) => {
  const token = /^Bearer (\S+)$/.exec(req.get("authorization") ?? "")?.[1];
  if (token === undefined) return void res.status(400).json({ error: "invalid_request" });
  let claims: JwtPayload;
  try {
    claims = await verify(token);
  } catch {
    return void res.status(401).json({ error: "invalid_token" });
  }
  if (claims.repository_owner !== config.owner || claims.job_workflow_ref !== config.jobWorkflowRef)
    return void res.status(403).json({ error: "forbidden" });
  try {
    const answer = await sts.send(
      new AssumeRoleCommand({
        RoleArn: config.roleArn,
        RoleSessionName: sessionSafe(`gh-${String(claims.repository_id)}-${String(claims.run_id)}`).slice(0, 64),
        SourceIdentity: sessionSafe(`gh-${String(claims.actor)}`).slice(0, 64),
        DurationSeconds: 900,
        Tags: ["repository", "repository_id", "ref", "event_name", "workflow", "actor", "environment"]
          .filter((claim) => typeof claims[claim] === "string" && claims[claim] !== "")
          .map((claim) => ({ Key: claim, Value: String(claims[claim]).slice(0, 256) })),
      }),
    );
    const credentials = answer.Credentials;
    if (credentials === undefined) return void res.status(502).json({ error: "upstream_unavailable" });
    res.set("cache-control", "no-store").json({
      Version: 1,
      AccessKeyId: credentials.AccessKeyId,
      SecretAccessKey: credentials.SecretAccessKey,
      SessionToken: credentials.SessionToken,
      Expiration: credentials.Expiration?.toISOString(),
    });
  } catch {
    res.status(503).json({ error: "upstream_unavailable" });
  }
});

const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address !== null ? address.port : "?"}\n`);
});
server.keepAliveTimeout = 60_000;
