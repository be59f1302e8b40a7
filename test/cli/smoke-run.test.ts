// `npm run smoke` against the broker and STS fakes inside workerd (the e2e tests run it against the sandbox too).
import { describe, expect, it } from "vitest";
import { parseSmokeArgs, runSmoke, versionOverrideHeader } from "../../src/cli/smoke-run.ts";
import { createHarness, STS_ORIGIN, type Harness } from "../support/broker-harness.ts";

const BROKER = "https://broker.example";
const VERSION = "dc8dcd28-271b-4367-9840-6c244f84cb40";

function depsFor(h: Harness, token: string, seen: Request[]) {
  return {
    fetch: async (input: Request | string | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push(request.clone());
      return request.url.startsWith(BROKER)
        ? h.fetch(request)
        : request.url.startsWith(STS_ORIGIN)
          ? h.sts.handler(request)
          : Promise.reject(new TypeError("offline"));
    },
    env: (name: string) => (name === "SMOKE_ID_TOKEN" ? token : undefined),
    now: h.now,
  };
}

const base = [
  "--broker",
  BROKER,
  "--audience",
  "ci-credential-broker",
  "--token-env",
  "SMOKE_ID_TOKEN",
  "--sts-endpoint",
  `${STS_ORIGIN}/`,
];

describe("runSmoke", () => {
  it("exchanges a token against the pinned version and proves the credentials with GetCallerIdentity", async () => {
    const h = await createHarness();
    const seen: Request[] = [];
    const result = await runSmoke(
      [
        ...base,
        "--worker-name",
        "ci-credential-broker",
        "--version-id",
        VERSION,
        "--expect-arn",
        ":assumed-role/acme-app-deploy/",
      ],
      depsFor(h, await h.mint(), seen),
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(
      /^smoke: ok \(version dc8dcd28-.*\): arn:aws:sts::111122223333:assumed-role\/acme-app-deploy\/ghe\.github\./,
    );
    expect(seen[0]?.headers.get("cloudflare-workers-version-overrides")).toBe(`ci-credential-broker="${VERSION}"`);
    expect(seen[1]?.headers.get("authorization")).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA/);
  });

  it("fails (exit 1) on a denied exchange and on an unexpected role, naming the broker's code only", async () => {
    const h = await createHarness();
    const denied = await runSmoke(base, depsFor(h, await h.mint({ repository: "acme/other" }), []));
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toMatch(/^smoke: FAIL broker answered HTTP 403 forbidden/);
    const wrongRole = await runSmoke([...base, "--expect-arn", ":assumed-role/other/"], depsFor(h, await h.mint(), []));
    expect(wrongRole.exitCode).toBe(1);
  });

  it("refuses bad arguments with exit 2 and the usage", async () => {
    for (const argv of [
      [],
      ["--broker", "http://broker.example.com", "--audience", "a"],
      [...base, "--version-id", VERSION],
      [...base, "--bogus", "x"],
    ]) {
      expect(() => parseSmokeArgs(argv)).toThrow();
    }
    expect(
      (await runSmoke([], { fetch: () => Promise.reject(new Error("unused")), env: () => undefined, now: Date.now }))
        .exitCode,
    ).toBe(2);
    expect(versionOverrideHeader("w", VERSION)).toBe(`w="${VERSION}"`);
  });
});
