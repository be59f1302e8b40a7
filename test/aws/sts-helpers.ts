// Shared by the STS client's tests: an AssumeRole input, a fresh principal per test, a harness over the STS emulator
// behind a fake network with an injected clock, sleep and random, and how a failure is read and printed.
import { expect } from "vitest";
import type { AssumeRoleInput } from "../../src/aws/session.ts";
import type { AssumeRoleDeps } from "../../src/aws/sts-client.ts";
import type { AwsOptions } from "../../src/aws/options.ts";
import { BrokerError } from "../../src/errors.ts";
import { createFakeNetwork, type Handler } from "../support/fake-network.ts";
import { createStsEmulator, type StsEmulatorOptions, type StsPrincipal } from "../../sandbox/fakes/sts-emulator.ts";

export const ORIGIN = "https://sts.us-east-1.amazonaws.com";
export const ROLE_ARN = "arn:aws:iam::123456789012:role/deploy";
export const START_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
/** Real milliseconds an attempt may take in these tests: keeps the hang tests fast. */
export const TEST_ATTEMPT_TIMEOUT_MS = 25;

export const input: AssumeRoleInput = {
  roleArn: ROLE_ARN,
  roleSessionName: "gh-9876543210-1-octo-org.app",
  durationSeconds: 900,
  sourceIdentity: "gh-octocat",
  tags: [
    { key: "Repository", value: "octo-org/app" },
    { key: "Workflow", value: "Deploy to prod" },
  ],
  transitiveTagKeys: ["Repository"],
  sessionPolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
  policyArns: [],
  externalId: undefined,
};

export function randomText(alphabet: string, length: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (byte) => alphabet[byte % alphabet.length]).join(
    "",
  );
}

/** A fresh IAM-user-like key pair, generated per test: nothing committed. */
export function testPrincipal(): Required<Pick<StsPrincipal, "accessKeyId" | "secretAccessKey">> {
  return {
    accessKeyId: `AKIA${randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
    secretAccessKey: randomText("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40),
  };
}

export interface Harness {
  deps: AssumeRoleDeps;
  emulator: ReturnType<typeof createStsEmulator>;
  network: ReturnType<typeof createFakeNetwork>;
  sleeps: number[];
  clock: { ms: number };
  principal: { accessKeyId: string; secretAccessKey: string };
}

export function harness(
  options: {
    emulator?: Partial<StsEmulatorOptions>;
    aws?: Partial<AwsOptions>;
    random?: () => number;
    /** Extra injected-clock ms each sleep takes beyond what was asked (a slow scheduler). */
    sleepOverrunMs?: number;
    /** Injected-clock ms each request spends on the wire. */
    latencyMs?: number;
    handler?: Handler;
  } = {},
): Harness {
  const clock = { ms: START_MS };
  const principal = testPrincipal();
  const emulator = createStsEmulator({ now: () => clock.ms, principals: [principal], ...options.emulator });
  const network = createFakeNetwork({ [ORIGIN]: options.handler ?? emulator.handler });
  const sleeps: number[] = [];
  const latency = options.latencyMs ?? 0;
  const deps: AssumeRoleDeps = {
    aws: { region: "us-east-1", stsEndpoint: `${ORIGIN}/`, ...principal, sessionToken: undefined, ...options.aws },
    fetch: async (request, init) => {
      const response = await network.fetch(request, init);
      clock.ms += latency;
      return response;
    },
    now: () => clock.ms,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.ms += ms + (options.sleepOverrunMs ?? 0);
    },
    random: options.random ?? (() => 0.5),
    attemptTimeoutMs: TEST_ATTEMPT_TIMEOUT_MS,
  };
  return { deps, emulator, network, sleeps, clock, principal };
}

export async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    return error as BrokerError;
  }
  throw new Error("expected a BrokerError");
}

/** Everything a log line could print about an error. */
export function printable(error: BrokerError): string {
  return [
    error.message,
    error.reason,
    error.code,
    String(error.cause),
    JSON.stringify(error.cause),
    JSON.stringify(error),
    error.stack ?? "",
  ].join("\n");
}
