import { describe, expect, it } from "vitest";
import { sandboxProfile } from "../../sandbox/profile.ts";

const base = {
  name: "ccb-sandbox",
  region: "eu-west-1",
  nodePath: "/opt/node 24/bin/node",
  cliPath: "/p/client-dist/cli.mjs",
  brokerUrl: "http://127.0.0.1:8787",
  sandboxOrigin: "http://127.0.0.1:8788",
};

describe("sandbox AWS profile", () => {
  it("points the profile's region at the sandbox STS endpoint of that region, and runs the bundled client with a fresh Actions token", () => {
    const lines = sandboxProfile(base).split("\n");
    expect(lines[0]).toBe("[profile ccb-sandbox]");
    expect(lines).toContain("region = eu-west-1");
    expect(lines).toContain("endpoint_url = http://127.0.0.1:8788/sts/eu-west-1");
    const process = lines.find((line) => line.startsWith("credential_process = ")) ?? "";
    expect(process).toContain(
      "ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:8788/_apis/oidc/token?api-version=2.0 ACTIONS_ID_TOKEN_REQUEST_TOKEN=sandbox",
    );
    expect(process).toContain(
      '"/opt/node 24/bin/node" "/p/client-dist/cli.mjs" credential-process --broker-url http://127.0.0.1:8787 --github-actions',
    );
  });

  it("refuses a path it cannot quote for botocore's shell-like split", () => {
    expect(() => sandboxProfile({ ...base, cliPath: '/p/"x/cli.mjs' })).toThrow();
  });
});
