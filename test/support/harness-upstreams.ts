// The upstreams of a harness broker on a fake network: a fake issuer (and any extra ones), the STS emulator (SigV4,
// or web identity trusting the broker), and the fake GitHub API with both Apps' keys, seeded with the example facts.
import { env } from "cloudflare:workers";
import {
  createFakeGitHub,
  EXAMPLE_TOKEN_APP_PERMISSIONS,
  seedExampleFacts,
  type FakeGitHub,
} from "../../sandbox/fakes/fake-github-api.ts";
import { createFakeIssuer, SAMPLE_SHA, type FakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";
import { generateAppKey, type AppKeyPair } from "../../sandbox/fakes/github-app-key.ts";
import { createStsEmulator, type StsEmulator } from "../../sandbox/fakes/sts-emulator.ts";
import { createFakeNetwork, type FakeNetwork } from "./fake-network.ts";

export const AUDIENCE = "ci-credential-broker";
/** GITHUB_APP_ID of every harness; its key pair is generated once per test file. */
export const HARNESS_APP_ID = "424242";
/** GITHUB_TOKEN_APP_ID of every harness: the token App (another App, another key). */
export const HARNESS_TOKEN_APP_ID = "535353";
let appKey: Promise<AppKeyPair> | undefined;
let tokenAppKey: Promise<AppKeyPair> | undefined;
export const STS_ORIGIN = "https://sts.us-east-1.amazonaws.com";
/** The broker's own origin: its issuer URL in web-identity mode. */
export const BROKER_ORIGIN = "https://broker.example";

/** One more trusted issuer at `https://<id>-<uuid>.example<path>` (a `path` such as `/_services/token`: GHES-style). */
export interface ExtraIssuerOption {
  id: string;
  kind: "github" | "gitlab";
  path?: string;
  config?: Record<string, unknown>;
}

/** What the upstreams depend on (HarnessOptions' fields of the same names). */
export interface UpstreamOptions {
  webIdentity?: { signingKey: string; nextSigningKey?: string } | undefined;
  githubPageSize?: number | undefined;
  githubAppPermissions?: Record<string, string> | undefined;
  issuers?: ExtraIssuerOption[] | undefined;
}

export interface Upstreams {
  issuer: FakeIssuer;
  network: FakeNetwork;
  sts: StsEmulator;
  github: FakeGitHub;
  githubApiUrl: string;
  appKey: AppKeyPair;
  tokenAppKey: AppKeyPair;
  extraIssuers: Record<string, FakeIssuer>;
  extraKinds: Map<string, "github" | "gitlab">;
}

export async function createUpstreams(options: UpstreamOptions, now: () => number): Promise<Upstreams> {
  // A distinct issuer per harness: test files share local KV, so keys never bleed between tests.
  const issuerUrl = `https://issuer-${crypto.randomUUID()}.example`;
  const issuer = await createFakeIssuer({ issuer: issuerUrl, audience: AUDIENCE, now });
  const network = createFakeNetwork();
  const webIdentity = options.webIdentity;
  const sts = createStsEmulator({
    now,
    // In web-identity mode the emulator knows no AWS key at all: any SigV4 call would be refused.
    principals:
      webIdentity === undefined
        ? [{ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }]
        : [],
    region: "us-east-1",
    roleMaxSessionSeconds: 43_200,
    ...(webIdentity === undefined
      ? {}
      : {
          webIdentity: {
            providers: [{ url: BROKER_ORIGIN, clientIds: ["sts.amazonaws.com"] }],
            fetch: (input, init) => network.fetch(input, init),
          },
        }),
  });
  network.route(issuerUrl, issuer.handler);
  network.route(STS_ORIGIN, sts.handler);
  appKey ??= generateAppKey();
  const key = await appKey;
  tokenAppKey ??= generateAppKey();
  const tokenKey = await tokenAppKey;
  const github = createFakeGitHub({
    appId: HARNESS_APP_ID,
    appPublicKey: key.publicKey,
    tokenApp: {
      appId: HARNESS_TOKEN_APP_ID,
      appPublicKey: tokenKey.publicKey,
      permissions: EXAMPLE_TOKEN_APP_PERMISSIONS,
    },
    now,
    ...(options.githubPageSize === undefined ? {} : { maxPageSize: options.githubPageSize }),
    ...(options.githubAppPermissions === undefined ? {} : { appPermissions: options.githubAppPermissions }),
  });
  seedExampleFacts(github, SAMPLE_SHA);
  const githubApiUrl = `https://github-api-${crypto.randomUUID()}.example`;
  network.route(githubApiUrl, github.handler);
  const extraIssuers: Record<string, FakeIssuer> = {};
  const extraKinds = new Map<string, "github" | "gitlab">();
  for (const extra of options.issuers ?? []) {
    const url = `https://${extra.id}-${crypto.randomUUID()}.example${extra.path ?? ""}`;
    extraIssuers[extra.id] = await createFakeIssuer({ issuer: url, audience: AUDIENCE, now });
    extraKinds.set(extra.id, extra.kind);
    network.route(url, (extraIssuers[extra.id] as FakeIssuer).handler);
  }
  return { issuer, network, sts, github, githubApiUrl, appKey: key, tokenAppKey: tokenKey, extraIssuers, extraKinds };
}
