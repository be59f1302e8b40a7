// deploymentEnvFrom (src/cli/deployment-env.ts): what preflight reads from wrangler's resolved config.
import { describe, expect, it } from "vitest";
import { deploymentEnvFrom, type DeploymentEnv } from "../../src/cli/deployment-env.ts";
import { sandbox } from "./preflight-helpers.ts";

describe("deploymentEnvFrom", () => {
  it("keeps what preflight reads from wrangler's resolved config, labelled by environment", () => {
    const env: DeploymentEnv = deploymentEnvFrom(sandbox, "sandbox");
    expect(env).toMatchObject({
      label: "env.sandbox",
      kvNamespaces: [{ binding: "JWKS_CACHE", id: "00000000000000000000000000000000" }],
      durableObjects: ["ADMISSION"],
      rateLimits: ["ADDRESS_LIMITER", "NETWORK_LIMITER"],
      analyticsEngine: [{ binding: "AUDIT", dataset: "ci_credential_broker_sandbox" }],
      placementRegion: "aws:us-east-1",
    });
    expect(deploymentEnvFrom({}, undefined)).toEqual({
      label: "top level",
      vars: {},
      kvNamespaces: [],
      durableObjects: [],
      rateLimits: [],
      analyticsEngine: [],
      placementRegion: undefined,
      requiredSecrets: [],
      crons: [],
    });
  });
});
