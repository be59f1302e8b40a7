// The identities a run's brokers share: the fake GitHub issuer (Node mints with its private key; the fakes Worker
// serves only its public JWK), the fakes Worker's configuration (issuer, STS emulator, echo), the broker's vars and
// secrets.
// Keys are generated per run and never stored: the token signing key, the broker's AWS keys (its secrets and the STS
// emulator's principal), a throwaway GitHub App key.
import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { createFakeIssuer, type FakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";
import type { FakesConfig } from "./fakes-api.ts";
import type { CompanionWorker } from "./runtime.ts";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const AUDIENCE = "ci-credential-broker";
export const AWS_REGION = "us-east-1";
export const STS_ORIGIN = `https://sts.${AWS_REGION}.amazonaws.com`;

/** The trivial_fetch Worker's subrequest, sized like the broker's STS exchange: ~1 KiB form POST, ~1.5 KiB XML back. */
export const ECHO_ORIGIN = "https://echo.bench.invalid";
export const ECHO_REQUEST_BYTES = 1024;
const ECHO_RESPONSE_BYTES = 1536;

/** The fakes Worker's name in each workerd: every outbound fetch of the Worker under test goes to it. */
export const FAKES_WORKER = "fakes";

const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomAccessKeyId(): string {
  let id = "AKIA";
  for (let i = 0; i < 16; i++) id += UPPER_DIGITS[randomInt(UPPER_DIGITS.length)];
  return id;
}

function randomSecretAccessKey(): string {
  return randomBytes(30).toString("base64"); // 40 characters of [A-Za-z0-9+/], as AWS's are.
}

/** A throwaway GitHub App key (PKCS#1 PEM, as GitHub hands it out). */
function githubAppKey(): string {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  }).privateKey;
}

/**
 * What every broker of a run shares: the token issuer (Node mints with its key), the fakes Worker, the vars and AWS
 * keys.
 */
export interface BrokerWorld {
  issuer: FakeIssuer;
  fakes: CompanionWorker;
  vars: Record<string, string>;
  /** The broker's AWS keys (random per run), as its secrets; the STS emulator knows them as its principal. */
  secrets: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; GITHUB_APP_PRIVATE_KEY: string };
}

/** Keys for this run. Node mints with the issuer's private key; the fakes Worker serves only the public JWK. */
export async function createBrokerWorld(fakesScript: string, stsHash: FakesConfig["stsHash"]): Promise<BrokerWorld> {
  const accessKeyId = randomAccessKeyId();
  const secretAccessKey = randomSecretAccessKey();
  const issuer = await createFakeIssuer({ issuer: GITHUB_ISSUER, audience: AUDIENCE });
  const fakesConfig: FakesConfig = {
    issuer: GITHUB_ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [issuer.key().publicJwk] },
    stsOrigin: STS_ORIGIN,
    region: AWS_REGION,
    principal: { accessKeyId, secretAccessKey },
    stsHash,
    echoOrigin: ECHO_ORIGIN,
    echoResponseBytes: ECHO_RESPONSE_BYTES,
  };
  return {
    issuer,
    fakes: { name: FAKES_WORKER, script: fakesScript, bindings: { FAKES: fakesConfig } },
    // The example policy has a rule with GitHub requirements (docs/github-facts.md), so the broker starts only with a
    // GitHub App configured. The fleet's rule requires no facts: the App is configured, never called.
    vars: {
      AWS_REGION,
      ISSUERS: JSON.stringify([{ kind: "github", issuer: GITHUB_ISSUER, audiences: [AUDIENCE] }]),
      GITHUB_APP_ID: "1",
    },
    secrets: {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      GITHUB_APP_PRIVATE_KEY: githubAppKey(),
    },
  };
}
