// A whole broker inside workerd for integration tests: real KV (env.JWKS_CACHE), the real app and pipeline,
// a fake issuer and the STS emulator behind a fake network, an injected clock, and captured log lines.
import { env } from "cloudflare:workers";
import examplePolicy from "../../policies/index.ts";
import { createBroker } from "../../src/broker.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { createFakeIssuer, type FakeIssuer } from "./fake-issuer.ts";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.ts";
import { createStsEmulator, type StsEmulator } from "./sts-emulator.ts";

export const AUDIENCE = "ci-credential-broker";
export const STS_ORIGIN = "https://sts.us-east-1.amazonaws.com";

export interface HarnessOptions {
  policy?: PolicyDefinition;
  /** Extra fields for the issuer's ISSUERS entry (audiences, clock tolerance…). */
  issuerConfig?: Record<string, unknown>;
  /** Replace or add env vars (after ISSUERS is built). */
  env?: Record<string, unknown>;
}

export interface Harness {
  issuer: FakeIssuer;
  sts: StsEmulator;
  network: FakeNetwork;
  logs: Array<Record<string, unknown>>;
  /** Sleeps the broker asked for (retry backoff); each advances the clock. */
  sleeps: number[];
  now(): number;
  advance(ms: number): void;
  env: Record<string, unknown>;
  /** POST /v1/credentials with the token as Bearer (and an optional JSON body). */
  request(token: string, body?: Record<string, unknown>): Promise<Response>;
  fetch(request: Request): Promise<Response>;
  /** The credential_exchange log lines. */
  events(): Array<Record<string, unknown>>;
  mint(claims?: Record<string, unknown>, options?: Parameters<FakeIssuer["mint"]>[1]): Promise<string>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  let clock = Date.UTC(2026, 10, 25, 12, 0, 0);
  const now = () => clock;
  // A distinct issuer per harness: test files share local KV, so keys never bleed between tests.
  const issuerUrl = `https://issuer-${crypto.randomUUID()}.example`;
  const issuer = await createFakeIssuer({ issuer: issuerUrl, audience: AUDIENCE, now });
  const sts = createStsEmulator({
    now,
    principals: [{ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }],
    region: "us-east-1",
    roleMaxSessionSeconds: 43_200,
  });
  const network = createFakeNetwork({ [issuerUrl]: issuer.handler, [STS_ORIGIN]: sts.handler });
  const logs: Array<Record<string, unknown>> = [];
  const sleeps: number[] = [];
  const broker = createBroker({
    policy: options.policy ?? examplePolicy,
    fetch: network.fetch,
    now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    log: (line) => logs.push(line),
  });
  const testEnv: Record<string, unknown> = {
    ...env,
    ISSUERS: JSON.stringify([{ kind: "github", issuer: issuerUrl, audiences: [AUDIENCE], ...options.issuerConfig }]),
    ...options.env,
  };
  const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
  const fetchBroker = async (request: Request) => (await broker.fetch?.(request as Request<unknown, IncomingRequestCfProperties>, testEnv as unknown as Env, ctx)) as Response;

  return {
    issuer,
    sts,
    network,
    logs,
    sleeps,
    now,
    advance: (ms) => {
      clock += ms;
    },
    env: testEnv,
    fetch: fetchBroker,
    request: (token, body) =>
      fetchBroker(
        new Request("https://broker.example/v1/credentials", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
    events: () => logs.filter((line) => line.message === "credential_exchange"),
    mint: (claims, mintOptions) => issuer.mint(claims, mintOptions),
  };
}

/**
 * Asserts an error response leaks nothing internal: exactly {error, message, request_id}, and none of the
 * secrets, ARNs, account ids, claim values or library words that a careless broker would echo.
 */
export async function expectNoLeak(response: Response, forbidden: string[] = []): Promise<Record<string, unknown>> {
  const text = await response.clone().text();
  const body = JSON.parse(text) as Record<string, unknown>;
  const problems: string[] = [];
  if (Object.keys(body).sort().join(",") !== "error,message,request_id") problems.push(`unexpected keys ${Object.keys(body).join(",")}`);
  const needles = [
    "arn:aws",
    "111122223333",
    "000000000000",
    "acme",
    "refs/heads",
    "ERR_J",
    "JWS",
    "JWT",
    "zod",
    "issues",
    "Error:",
    "    at ",
    "<",
    "AccessDenied",
    "Throttling",
    env.AWS_ACCESS_KEY_ID,
    ...forbidden,
  ];
  for (const needle of needles) if (needle !== "" && text.includes(needle)) problems.push(`contains ${JSON.stringify(needle)}`);
  if (problems.length > 0) throw new Error(`error response leaks: ${problems.join("; ")}: ${text}`);
  return body;
}
