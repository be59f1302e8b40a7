// Admission objects are created near the STS region: the region-to-hint table, and the production wiring passing it.
import { describe, expect, it } from "vitest";
import { locationHintFor } from "../../src/admission/location-hint.ts";
import { productionAdmission } from "../../src/broker.ts";
import type { Claims } from "../../src/oidc/claims.ts";
import { IssuerListSchema } from "../../src/oidc/issuers.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";

describe("locationHintFor", () => {
  it.each([
    ["us-east-1", "enam"],
    ["us-east-2", "enam"],
    ["us-west-1", "wnam"],
    ["us-west-2", "wnam"],
    ["ca-central-1", "enam"],
    ["ca-west-1", "wnam"],
    ["us-gov-west-1", "wnam"],
    ["us-gov-east-1", "enam"],
    ["mx-central-1", "enam"],
    ["sa-east-1", "sam"],
    ["eu-west-1", "weur"],
    ["eu-central-1", "weur"],
    ["eu-north-1", "weur"],
    ["eu-south-2", "weur"],
    ["il-central-1", "me"],
    ["me-central-1", "me"],
    ["af-south-1", "afr"],
    ["ap-southeast-2", "oc"],
    ["ap-southeast-4", "oc"],
    ["ap-southeast-1", "apac"],
    ["ap-northeast-1", "apac"],
    ["ap-south-1", "apac"],
    ["cn-north-1", "apac"],
  ])("%s -> %s", (region, hint) => {
    expect(locationHintFor(region)).toBe(hint);
  });

  it("an unknown region gives no hint (the runtime's default placement)", () => {
    expect(locationHintFor("xx-nowhere-1")).toBeUndefined();
  });
});

describe("productionAdmission", () => {
  it("asks for the repository's object with the STS region's location hint", async () => {
    const asked: Array<{ name: string; options: unknown }> = [];
    const namespace = {
      getByName: (name: string, options?: unknown) => {
        asked.push({ name, options });
        return { admit: async () => ({ outcome: "admitted" }), release: async () => ({ outcome: "released" }) };
      },
    };
    const env = { ADMISSION: namespace } as unknown as Env;
    const admission = productionAdmission(env, { now: () => 0, log: () => undefined, awsRegion: "eu-west-1" });
    const issuer = IssuerListSchema.parse([
      { kind: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["ci-credential-broker"] },
    ])[0]!;
    await admission.admit(
      {
        issuer,
        claims: githubClaims({ repository_id: "42" }) as unknown as Claims,
        jti: "j",
        iat: 1,
        exp: 301,
        nbf: 1,
      },
      { ruleId: "r", rateLimit: undefined },
      "request-1",
    );
    expect(asked).toEqual([{ name: "github:repo:42", options: { locationHint: "weur" } }]);
  });
});
