import { describe, expect, it } from "vitest";
import { StaticPathRouter } from "../src/app.ts";
import { createHarness, expectAudit, expectNoLeak } from "./support/broker-harness.ts";

describe("routes", () => {
  it("GET /healthz answers ok and reveals nothing about configuration", async () => {
    const harness = await createHarness();
    const response = await harness.fetch(new Request("https://broker.example/healthz"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    // Not an exchange: no audit event, no data point.
    expect(harness.events()).toEqual([]);
    expect(harness.dataPoints()).toEqual([]);
  });

  it("HEAD /healthz answers 200 without a body (hono serves HEAD through the GET route)", async () => {
    const harness = await createHarness();
    const response = await harness.fetch(new Request("https://broker.example/healthz", { method: "HEAD" }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("healthz stays up even when the configuration is invalid", async () => {
    const harness = await createHarness({ env: { ISSUERS: "not json" } });
    expect((await harness.fetch(new Request("https://broker.example/healthz"))).status).toBe(200);
  });

  const notAllowed: Array<[string, string, string]> = [
    ["GET", "/v1/credentials", "POST"],
    ["PUT", "/v1/credentials", "POST"],
    ["DELETE", "/v1/credentials", "POST"],
    ["POST", "/healthz", "GET, HEAD"],
  ];
  it.each(notAllowed)("%s %s -> 405 method_not_allowed with Allow", async (method, path, allow) => {
    const harness = await createHarness();
    const response = await harness.fetch(new Request(`https://broker.example${path}`, { method }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect((await expectNoLeak(response)).error).toBe("method_not_allowed");
    expect(harness.dataPoints()).toEqual([]);
  });

  it("unknown paths -> 404 not_found", async () => {
    const harness = await createHarness();
    for (const path of [
      "/",
      "/v1/credentials/",
      "/V1/credentials",
      "/v1/credentials/x",
      "//v1/credentials",
      "/healthz/",
      "/v2/credentials",
      "/.env",
    ]) {
      const response = await harness.fetch(new Request(`https://broker.example${path}`, { method: "POST" }));
      expect(response.status, path).toBe(404);
      expect((await expectNoLeak(response)).error).toBe("not_found");
    }
    expect(harness.dataPoints()).toEqual([]);
  });
});

describe("StaticPathRouter", () => {
  it("matches the exact path and method (or ALL), and the catch-all, in registration order", () => {
    const router = new StaticPathRouter<string>();
    router.add("ALL", "/*", "middleware");
    router.add("GET", "/a", "get a");
    router.add("ALL", "/a", "all a");
    router.add("POST", "/b", "post b");
    expect(router.match("GET", "/a")[0].map(([handler]) => handler)).toEqual(["middleware", "get a", "all a"]);
    expect(router.match("POST", "/a")[0].map(([handler]) => handler)).toEqual(["middleware", "all a"]);
    expect(router.match("GET", "/b")[0].map(([handler]) => handler)).toEqual(["middleware"]);
    expect(router.match("POST", "/a/")[0].map(([handler]) => handler)).toEqual(["middleware"]);
  });

  it.each(["/repos/:id", "/files/*", "/a?", "/x/{y}"])("refuses the pattern path %s when the app is built", (path) => {
    expect(() => new StaticPathRouter<string>().add("GET", path, "h")).toThrow();
  });
});

describe("configuration", () => {
  const broken: Array<[string, Record<string, unknown>]> = [
    ["ISSUERS not JSON", { ISSUERS: "not json" }],
    ["ISSUERS empty", { ISSUERS: "[]" }],
    [
      "issuer without audiences",
      {
        ISSUERS: JSON.stringify([
          { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: [] },
        ]),
      },
    ],
    [
      "issuer over plain http",
      {
        ISSUERS: JSON.stringify([
          { kind: "github", issuer: "http://token.actions.githubusercontent.com", audiences: ["a"] },
        ]),
      },
    ],
    [
      "issuer with trailing slash",
      {
        ISSUERS: JSON.stringify([
          { kind: "github", issuer: "https://token.actions.githubusercontent.com/", audiences: ["a"] },
        ]),
      },
    ],
    [
      "unknown issuer field",
      { ISSUERS: JSON.stringify([{ kind: "github", issuer: "https://x.example", audiences: ["a"], audience: "b" }]) },
    ],
    [
      "symmetric algorithm",
      {
        ISSUERS: JSON.stringify([
          { kind: "github", issuer: "https://x.example", audiences: ["a"], algorithms: ["HS256"] },
        ]),
      },
    ],
    ["bad region", { AWS_REGION: "mars-1" }],
    ["missing secret", { AWS_SECRET_ACCESS_KEY: undefined }],
    ["malformed access key id", { AWS_ACCESS_KEY_ID: "not-a-key" }],
  ];
  it.each(broken)("%s -> 500 config_invalid, and no outbound call", async (_name, overrides) => {
    const harness = await createHarness({ env: overrides });
    const token = await harness.mint();
    const response = await harness.request(token);
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expect(harness.network.calls).toEqual([]);
    expectAudit(harness, { outcome: "error", code: "config_invalid", reason: "config_invalid", status: 500 });
    // The log names the variable, never its value.
    expect(JSON.stringify(harness.logs)).not.toContain(String(harness.env.AWS_SECRET_ACCESS_KEY));
  });

  it("a policy that does not compile -> config_invalid", async () => {
    const harness = await createHarness({
      policy: { roles: {}, rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["missing"] }] },
    });
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(500);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
    expectAudit(harness, { outcome: "error", code: "config_invalid", reason: "policy_invalid", status: 500 });
  });
});

describe("STS endpoint configuration", () => {
  it.each([
    ["plain http to a remote host", { STS_ENDPOINT: "http://sts.example.com/" }, 500],
    ["not a URL", { STS_ENDPOINT: "sts" }, 500],
  ])("%s -> config_invalid", async (_name, overrides, status) => {
    const harness = await createHarness({ env: overrides });
    const response = await harness.request(await harness.mint());
    expect(response.status).toBe(status);
    expect((await expectNoLeak(response)).error).toBe("config_invalid");
  });
});
