// The local sandbox behind `npm start`: a GitHub-shaped OIDC issuer and the STS emulator, on one port.
// The same fakes the tests use (sandbox/fakes), served over HTTP for the broker running under wrangler dev.
import type { Server } from "node:http";
import { SANDBOX_AUDIENCE } from "./constants.ts";
import { createFakeGitHub, EXAMPLE_TOKEN_APP_PERMISSIONS, type FakeGitHub } from "./fakes/fake-github-api.ts";
import { createFakeIssuer, type FakeIssuer } from "./fakes/fake-issuer.ts";
import { createStsEmulator, isAwsRegionName, type StsEmulator } from "./fakes/sts-emulator.ts";
import { actionsToken, json, mintAndExchange, mintToken, SANDBOX_ACTIONS_TOKEN_PATH } from "./endpoints.ts";
import { applyGitHubCommand } from "./github-command.ts";
import { seedSandboxFacts } from "./github-seed.ts";
import { createSandboxIam } from "./iam.ts";
import { serve } from "./node-http.ts";
import type { SandboxFacts } from "./policy-examples.ts";

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
  /**
   * Web-identity mode (`npm start -- --web-identity`): STS trusts the broker at this origin as an IAM OIDC provider
   * (client id sts.amazonaws.com) and knows no AWS key, so a SigV4-signed AssumeRole would be refused.
   */
  brokerIssuerUrl?: string;
  /**
   * The sandbox GitHub App (GITHUB_APP_ID of [env.sandbox.vars]) and its public key: the fake GitHub API checks App
   * JWTs with it.
   */
  githubAppId: string;
  githubAppPublicKey: CryptoKey;
  /**
   * The sandbox token App (GITHUB_TOKEN_APP_ID of [env.sandbox.vars]) and its public key: a second App of the fake
   * GitHub API.
   */
  githubTokenAppId: string;
  githubTokenAppPublicKey: CryptoKey;
  /** Claims of every token the issuer mints unless a request overrides them: derived from the broker's policy. */
  defaultClaims: Record<string, string>;
  /** What the fake GitHub API reports for the default token's commit; undefined when the policy offered no token. */
  facts: SandboxFacts | undefined;
  /** The local Analytics Engine's routes (SQL API, alert runs): sandbox/local-analytics.ts. */
  analytics?: { route(request: Request): Promise<Response | undefined> };
}

export interface Sandbox {
  origin: string;
  issuer: FakeIssuer;
  sts: StsEmulator;
  /** The fake GitHub API under /github (the sandbox issuer's api_url). */
  github: FakeGitHub;
  close(): Promise<void>;
}

/** POST /sandbox/github {"args": [...]}: `npm run sandbox -- github ...` (sandbox/github-command.ts). */
async function githubCommandRequest(
  github: FakeGitHub,
  facts: SandboxFacts | undefined,
  request: Request,
): Promise<Response> {
  const body = (await request.json().catch(() => ({}))) as { args?: unknown };
  if (!Array.isArray(body.args) || !body.args.every((arg) => typeof arg === "string"))
    return json({ error: 'body must be {"args": [strings]}' }, 400);
  if (facts === undefined)
    return json(
      { error: "the policy offers the sandbox no default token, so there is no commit to report facts for" },
      400,
    );
  try {
    return json({ message: applyGitHubCommand(github, facts, body.args as string[]) });
  } catch (error) {
    return json({ error: error instanceof Error ? error.message : String(error) }, 400);
  }
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const origin = `http://${options.host}:${options.port}`;
  const issuer = await createFakeIssuer({ issuer: origin, audience: SANDBOX_AUDIENCE, claims: options.defaultClaims });
  const webIdentity = options.brokerIssuerUrl;
  const sts = createStsEmulator({
    now: Date.now,
    principals:
      webIdentity === undefined
        ? [{ accessKeyId: options.brokerAccessKeyId, secretAccessKey: options.brokerSecretAccessKey }]
        : [],
    // AWS fetches the broker's discovery document and JWKS over the network: here, loopback.
    ...(webIdentity === undefined
      ? {}
      : {
          webIdentity: {
            providers: [{ url: webIdentity, clientIds: ["sts.amazonaws.com"] }],
            fetch: (input: string, init?: RequestInit) => fetch(input, init),
          },
        }),
    region: "us-east-1",
    ...(options.credentialLifetimeSeconds === undefined
      ? {}
      : { credentialLifetimeSeconds: options.credentialLifetimeSeconds }),
  });
  const github = createFakeGitHub({
    appId: options.githubAppId,
    appPublicKey: options.githubAppPublicKey,
    tokenApp: {
      appId: options.githubTokenAppId,
      appPublicKey: options.githubTokenAppPublicKey,
      permissions: EXAMPLE_TOKEN_APP_PERMISSIONS,
    },
    now: Date.now,
    basePath: "/github",
  });
  const iam = createSandboxIam();
  // The default token's commit meets the policy's requirements until a `github` command says otherwise.
  if (options.facts !== undefined) seedSandboxFacts(github, options.facts);
  const server: Server = await serve(
    async (request) => {
      const { pathname } = new URL(request.url);
      const analytics = await options.analytics?.route(request);
      if (analytics !== undefined) return analytics;
      if (pathname === "/token" && request.method === "POST") return mintToken(issuer, request);
      if (pathname === "/sandbox/github" && request.method === "POST")
        return githubCommandRequest(github, options.facts, request);
      if (pathname.startsWith("/github/")) return github.handler(request);
      if (pathname === "/exchange" && request.method === "POST")
        return mintAndExchange(issuer, options.brokerUrl, fetch, request);
      if (pathname === SANDBOX_ACTIONS_TOKEN_PATH) return actionsToken(issuer, request);
      // IAM for `npm run revoke -- --iam-endpoint http://127.0.0.1:8788/iam --apply` (sandbox/iam.ts).
      if (pathname === "/iam" || pathname === "/iam/") return iam.handler(request);
      // `/sts` is the global endpoint (us-east-1); `/sts/<region>` the regional endpoint of any region
      // (docs/sandbox.md).
      if (pathname === "/sts" || pathname === "/sts/") return sts.handler(request);
      const regional = /^\/sts\/([^/]+)\/?$/.exec(pathname)?.[1];
      if (regional !== undefined) {
        return isAwsRegionName(regional)
          ? sts.handler(request, regional)
          : json({ error: "not_found", message: `${regional} is not an AWS region name` }, 404);
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
    github,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
