import { describe, expect, it } from "vitest";
import { configWarnings, parseConfig, regionalStsEndpoint } from "../src/config.ts";
import { BrokerError } from "../src/errors.ts";
import { createHarness } from "./support/broker-harness.ts";

const base = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIAABCDEFGHIJKLMNOP",
  AWS_SECRET_ACCESS_KEY: "0123456789abcdef0123456789abcdef",
  ISSUERS: JSON.stringify([{ kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["ci-credential-broker"] }]),
};

describe("parseConfig", () => {
  it("applies issuer defaults and the regional STS endpoint", () => {
    const config = parseConfig(base);
    expect(config.aws.stsEndpoint).toBe("https://sts.us-east-1.amazonaws.com/");
    expect(config.issuers[0]).toMatchObject({ id: "github", algorithms: ["RS256"], clockToleranceSeconds: 10 });
  });

  it.each([
    ["us-east-1", "https://sts.us-east-1.amazonaws.com/"],
    ["eu-west-3", "https://sts.eu-west-3.amazonaws.com/"],
    ["cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn/"],
  ])("regional endpoint for %s", (region, endpoint) => {
    expect(regionalStsEndpoint(region)).toBe(endpoint);
  });

  it.each([
    ["https override", "https://sts.internal.example/", true],
    ["loopback http override (sandbox)", "http://127.0.0.1:8788/sts", true],
    ["remote plain http", "http://sts.internal.example/", false],
    ["other scheme", "ftp://sts.internal.example/", false],
  ])("STS_ENDPOINT: %s", (_name, endpoint, accepted) => {
    const parse = () => parseConfig({ ...base, STS_ENDPOINT: endpoint });
    if (accepted) expect(parse().aws.stsEndpoint).toBe(endpoint);
    else expect(parse).toThrow(BrokerError);
  });

  it("names the bad variable, never its value", () => {
    try {
      parseConfig({ ...base, AWS_SECRET_ACCESS_KEY: "short" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as BrokerError).code).toBe("config_invalid");
      expect(String((error as BrokerError).cause)).toContain("AWS_SECRET_ACCESS_KEY");
      expect(String((error as BrokerError).cause)).not.toContain("short");
    }
  });
});

describe("configWarnings: the shared default audience outside the sandbox", () => {
  const issuers = (list: unknown[]) => parseConfig({ ...base, ISSUERS: JSON.stringify(list) });

  it("warns for a public issuer that accepts ci-credential-broker", () => {
    expect(configWarnings(parseConfig(base))).toEqual([{ reason: "audience_shared_default", issuer: "github" }]);
  });

  it("is quiet for a deployment-specific audience, and for the loopback sandbox issuer", () => {
    expect(configWarnings(issuers([{ kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["https://ci-broker.acme.example"] }]))).toEqual([]);
    expect(configWarnings(issuers([{ kind: "github", issuer: "http://127.0.0.1:8788", audiences: ["ci-credential-broker"] }]))).toEqual([]);
  });

  it("names each issuer that keeps it, even beside a specific one", () => {
    const config = issuers([
      { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["https://ci-broker.acme.example"] },
      { kind: "gitlab", issuer: "https://gitlab.com", audiences: ["https://ci-broker.acme.example", "ci-credential-broker"] },
    ]);
    expect(configWarnings(config)).toEqual([{ reason: "audience_shared_default", issuer: "gitlab" }]);
  });
});

describe("the Worker logs each warning once per isolate", () => {
  it("config_warning audience_shared_default, once for two requests", async () => {
    const h = await createHarness();
    await h.request(await h.mint());
    await h.request(await h.mint());
    expect(h.logs.filter((line) => line.message === "config_warning")).toEqual([{ message: "config_warning", reason: "audience_shared_default", issuer: "github" }]);
  });
});
