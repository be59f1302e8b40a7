// The local sandbox behind `npm start`: a GitHub-shaped OIDC issuer and the STS emulator, on one port.
// The same fakes the tests use (test/support), served over HTTP for the broker running under wrangler dev.
import type { Server } from "node:http";
import { SANDBOX_AUDIENCE } from "../../src/constants.ts";
import { createFakeIssuer, type FakeIssuer } from "../support/fake-issuer.ts";
import { createStsEmulator, type StsEmulator } from "../support/sts-emulator.ts";
import { serve } from "./node-http.ts";

export interface SandboxOptions {
  host: string;
  port: number;
  /** The broker's AWS keys: the STS emulator accepts only requests they sign. */
  brokerAccessKeyId: string;
  brokerSecretAccessKey: string;
  /** Shorten issued credentials' life (seconds), to watch clients renew them. */
  credentialLifetimeSeconds?: number;
  /**
   * Web-identity mode (`npm start -- --web-identity`): STS trusts the broker at this origin as an IAM OIDC provider
   * (client id sts.amazonaws.com) and knows no AWS key, so a SigV4-signed AssumeRole would be refused.
   */
  brokerIssuerUrl?: string;
}

export interface Sandbox {
  origin: string;
  issuer: FakeIssuer;
  sts: StsEmulator;
  close(): Promise<void>;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** POST /token: claim overrides as a JSON object of strings -> {"token": "..."} for the broker's audience. */
async function mintToken(issuer: FakeIssuer, request: Request): Promise<Response> {
  const text = await request.text();
  let overrides: unknown = {};
  if (text.trim() !== "") {
    try {
      overrides = JSON.parse(text);
    } catch {
      return json({ error: "invalid_request", message: "body must be a JSON object of claim overrides" }, 400);
    }
  }
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    return json({ error: "invalid_request", message: "body must be a JSON object of claim overrides" }, 400);
  }
  return json({ token: await issuer.mint(overrides as Record<string, unknown>) });
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const origin = `http://${options.host}:${options.port}`;
  const issuer = await createFakeIssuer({ issuer: origin, audience: SANDBOX_AUDIENCE });
  const webIdentity = options.brokerIssuerUrl;
  const sts = createStsEmulator({
    now: Date.now,
    principals: webIdentity === undefined ? [{ accessKeyId: options.brokerAccessKeyId, secretAccessKey: options.brokerSecretAccessKey }] : [],
    // AWS fetches the broker's discovery document and JWKS over the network: here, loopback.
    ...(webIdentity === undefined ? {} : { webIdentity: { providers: [{ url: webIdentity, clientIds: ["sts.amazonaws.com"] }], fetch: (input: string, init?: RequestInit) => fetch(input, init) } }),
    region: "us-east-1",
    ...(options.credentialLifetimeSeconds === undefined ? {} : { credentialLifetimeSeconds: options.credentialLifetimeSeconds }),
  });
  const server: Server = await serve(
    async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/token" && request.method === "POST") return mintToken(issuer, request);
      if (pathname === "/sts" || pathname.startsWith("/sts/")) return sts.handler(request);
      return issuer.handler(request);
    },
    options.host,
    options.port,
  );
  return {
    origin,
    issuer,
    sts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
