// Shared set-up for the client's unit tests: a scripted broker, a token source that counts, a clock that sleeps
// advance,
// the credentials request the exchange tests make, and the ClientError a failed call throws.
// Platform-neutral (runs in workerd): Request/Response and WebCrypto only.
import type { Credentials } from "../../src/client/credentials.ts";
import { ClientError } from "../../src/client/errors.ts";
import type { ClientDeps } from "../../src/client/client-deps.ts";
import type { TokenSource } from "../../src/client/token-source.ts";

export const START_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
export const ENDPOINT = new URL("https://broker.example/v1/credentials");

/** A JWT-shaped token, distinct per n: tests look for it in every output. */
export function fakeJwt(n: number): string {
  return `eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJ0b2tlbi0${n}In0.c2lnbmF0dXJlLXRva2VuLW${n}`;
}

export const SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY40";
export const SESSION_TOKEN = `IQoJb3JpZ2luX2VjEXAMPLE${"A".repeat(600)}SESSIONTOKEN==`;

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The broker's 200 body (credential_process shape), valid unless overridden. */
export function credentialsBody(overrides: Record<string, unknown> = {}, nowMs = START_MS): Record<string, unknown> {
  return {
    Version: 1,
    AccessKeyId: "ASIAEXAMPLE0000001",
    SecretAccessKey: SECRET,
    SessionToken: SESSION_TOKEN,
    Expiration: isoSeconds(nowMs + 900_000),
    ...overrides,
  };
}

export function expectedCredentials(nowMs = START_MS): Credentials {
  const expiration = isoSeconds(nowMs + 900_000);
  return {
    accessKeyId: "ASIAEXAMPLE0000001",
    secretAccessKey: SECRET,
    sessionToken: SESSION_TOKEN,
    expiration,
    expiresAtMs: Date.parse(expiration),
  };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-request-id": "11111111-2222-3333-4444-555555555555", ...headers },
  });
}

export function brokerError(
  error: string,
  status: number,
  headers: Record<string, string> = {},
  requestId = "0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d",
): Response {
  return json({ error, message: "fixed public text", request_id: requestId }, status, {
    "x-request-id": requestId,
    ...headers,
  });
}

export type Answer = Response | Error | ((request: Request) => Response | Promise<Response>);

export interface Scripted {
  deps: ClientDeps;
  /** Requests the broker received, in order. */
  requests: Request[];
  /** Bodies of those requests (read once on arrival). */
  bodies: string[];
  /** Tokens minted, in order. */
  minted: string[];
  sleeps: number[];
  debugLines: string[];
  /** What the client passed to `warn` (GitHub: ::warning:: annotations). */
  warnings: string[];
  now(): number;
}

/** A broker that answers from `answers` in order (an Error is a network failure), with a counting token source. */
export function scripted(
  answers: Answer[],
  options: { random?: number; tokens?: TokenSource; latencyMs?: number; mintLatencyMs?: number } = {},
): Scripted {
  let clock = START_MS;
  const requests: Request[] = [];
  const bodies: string[] = [];
  const minted: string[] = [];
  const sleeps: number[] = [];
  const debugLines: string[] = [];
  const warnings: string[] = [];
  const queue = [...answers];
  const tokens: TokenSource = options.tokens ?? {
    description: "the test token source",
    // Like GitHub's endpoint: a new token on every call.
    mintsFresh: true,
    mint: async () => {
      const token = fakeJwt(minted.length + 1);
      minted.push(token);
      clock += options.mintLatencyMs ?? 0;
      return token;
    },
  };
  const deps: ClientDeps = {
    fetch: async (input, init) => {
      const request = new Request(input, init);
      requests.push(request);
      bodies.push(await request.clone().text());
      clock += options.latencyMs ?? 0;
      const next = queue.shift();
      if (next === undefined) throw new Error("scripted broker: no answer left");
      if (next instanceof Error) throw next;
      return typeof next === "function" ? await next(request) : next;
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => options.random ?? 0.5,
    tokens,
    debug: (line) => debugLines.push(line),
    warn: (line) => warnings.push(line),
  };
  return { deps, requests, bodies, minted, sleeps, debugLines, warnings, now: () => clock };
}

/** A fetch failure as Node's undici reports a refused connection. */
export function connectionRefused(): Error {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8787"), { code: "ECONNREFUSED" }),
  });
}

/** A classic installation token: `ghs_` and 36 characters. */
export const GHS = `ghs_${"A1b2C3d4E5".repeat(3)}xyzXYZ`;

/** The broker's 200 body for POST /v1/github-token (docs/api.md), valid unless overridden. */
export function tokenBody(overrides: Record<string, unknown> = {}, nowMs = START_MS): Record<string, unknown> {
  return {
    token: GHS,
    expires_at: isoSeconds(nowMs + 3_600_000),
    permissions: { contents: "write", metadata: "read", pull_requests: "write" },
    repositories: ["acme/homebrew-tap"],
    api_url: "https://api.github.com",
    ...overrides,
  };
}

export const options = { endpoint: ENDPOINT, role: "deploy", durationSeconds: 3600 };

/** The ClientError `promise` rejects with; anything else fails the test. */
export async function failure(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error("expected a ClientError");
}
