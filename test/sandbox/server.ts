// The local sandbox behind `npm start`: a GitHub-shaped OIDC issuer and the STS emulator, on one port.
// The same fakes the tests use (test/support), served over HTTP for the broker running under wrangler dev.
import type { Server } from "node:http";
import { SANDBOX_AUDIENCE } from "../../src/constants.ts";
import { createFakeIssuer, type FakeIssuer } from "../support/fake-issuer.ts";
import { createStsEmulator, isAwsRegionName, type StsEmulator } from "../support/sts-emulator.ts";
import { actionsToken, json, mintAndExchange, mintToken, SANDBOX_ACTIONS_TOKEN_PATH } from "./endpoints.ts";
import { serve } from "./node-http.ts";

export interface SandboxOptions {
  host: string;
  port: number;
  /** The broker's AWS keys: the STS emulator accepts only requests they sign. */
  brokerAccessKeyId: string;
  brokerSecretAccessKey: string;
  /** The broker's origin, for POST /exchange. */
  brokerUrl: string;
  /** Shorten issued credentials' life (seconds), to watch clients renew them. */
  credentialLifetimeSeconds?: number;
}

export interface Sandbox {
  origin: string;
  issuer: FakeIssuer;
  sts: StsEmulator;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const origin = `http://${options.host}:${options.port}`;
  const issuer = await createFakeIssuer({ issuer: origin, audience: SANDBOX_AUDIENCE });
  const sts = createStsEmulator({
    now: Date.now,
    principals: [{ accessKeyId: options.brokerAccessKeyId, secretAccessKey: options.brokerSecretAccessKey }],
    region: "us-east-1",
    ...(options.credentialLifetimeSeconds === undefined ? {} : { credentialLifetimeSeconds: options.credentialLifetimeSeconds }),
  });
  const server: Server = await serve(
    async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/token" && request.method === "POST") return mintToken(issuer, request);
      if (pathname === "/exchange" && request.method === "POST") return mintAndExchange(issuer, options.brokerUrl, fetch, request);
      if (pathname === SANDBOX_ACTIONS_TOKEN_PATH) return actionsToken(issuer, request);
      // `/sts` is the global endpoint (us-east-1); `/sts/<region>` the regional endpoint of any region (docs/sandbox.md).
      if (pathname === "/sts" || pathname === "/sts/") return sts.handler(request);
      const regional = /^\/sts\/([^/]+)\/?$/.exec(pathname)?.[1];
      if (regional !== undefined) {
        return isAwsRegionName(regional) ? sts.handler(request, regional) : json({ error: "not_found", message: `${regional} is not an AWS region name` }, 404);
      }
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
