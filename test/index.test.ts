// The deployed entry point as wrangler.toml configures it (GitHub's issuer, regional STS), with the
// runtime's global fetch replaced by the fake network: proves the real wiring, not just the harness.
import { env, exports } from "cloudflare:workers";
import { importSPKI } from "jose";
import { afterEach, expect, it, vi } from "vitest";
import { expectNoLeak } from "./support/broker-harness.ts";
import { createFakeGitHub, seedExampleFacts } from "../sandbox/fakes/fake-github-api.ts";
import { createFakeIssuer, SAMPLE_SHA } from "../sandbox/fakes/fake-issuer.ts";
import { createFakeNetwork } from "./support/fake-network.ts";
import { createStsEmulator } from "../sandbox/fakes/sts-emulator.ts";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

it("the Worker's default export exchanges a GitHub token for credentials", async () => {
  const issuer = await createFakeIssuer({
    issuer: "https://token.actions.githubusercontent.com",
    audience: "ci-credential-broker",
  });
  const sts = createStsEmulator({
    now: Date.now,
    principals: [{ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }],
  });
  // The example policy's deploy rule requires GitHub facts: the App (vitest.config.ts bindings) reads them from
  // api.github.com, the default API of GitHub's issuer.
  const bindings = env as unknown as Record<string, string>;
  const github = createFakeGitHub({
    appId: bindings.GITHUB_APP_ID as string,
    appPublicKey: await importSPKI(bindings.TEST_GITHUB_APP_PUBLIC_KEY as string, "RS256"),
    now: Date.now,
  });
  seedExampleFacts(github, SAMPLE_SHA);
  const network = createFakeNetwork({
    [issuer.issuer]: issuer.handler,
    "https://sts.us-east-1.amazonaws.com": sts.handler,
    "https://api.github.com": github.handler,
  });
  vi.stubGlobal("fetch", network.fetch);
  // The deployed Worker logs to the console (Workers Logs): captured here, asserted below, kept out of the test report.
  const consoleLog = vi.spyOn(console, "log").mockImplementation(() => undefined);

  const token = await issuer.mint();
  const response = await exports.default.fetch("https://broker.example/v1/credentials", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
  expect(network.callsTo("https://token.actions.githubusercontent.com/.well-known/")).not.toHaveLength(0);
  expect(sts.assumeRoleCalls[0]?.roleArn).toBe("arn:aws:iam::111122223333:role/acme-app-deploy");
  expect(github.calls.jobs).toBe(1);

  // A token for GitHub's default audience is refused: the broker only accepts its configured audience.
  const defaultAudience = await issuer.mint({ aud: "https://github.com/acme" });
  const refused = await exports.default.fetch("https://broker.example/v1/credentials", {
    method: "POST",
    headers: { authorization: `Bearer ${defaultAudience}` },
  });
  expect(refused.status).toBe(401);
  expect((await expectNoLeak(refused)).error).toBe("invalid_token");

  // One structured line per exchange, and the shared-default-audience warning once; never a token.
  const lines = consoleLog.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
  expect(lines.filter((line) => line.message === "credential_exchange")).toEqual([
    expect.objectContaining({ outcome: "issued", rule_id: "acme-app-main-deploy", status: 200 }),
    expect.objectContaining({ outcome: "rejected", reason: "audience_mismatch", status: 401 }),
  ]);
  // Once each: the shared default audience, and (the test policy grants GitHub tokens, this env has no token App) its
  // missing App.
  expect(lines.filter((line) => line.message === "config_warning").map((line) => line.reason)).toEqual([
    "audience_shared_default",
    "github_token_app_missing",
  ]);
  expect(JSON.stringify(lines)).not.toContain(token);
});
