import { describe, expect, it } from "vitest";
import { parseExplainInput, UNVERIFIED_TOKEN_NOTE } from "../../src/cli/explain-input.ts";
import { runPolicyExplain } from "../../src/cli/policy-explain-run.ts";
import testPolicy from "../fixtures/policies/index.ts";
import { githubClaims } from "../support/fake-issuer.ts";

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
/** A token whose signature is garbage: explain must decode it anyway, and say it did not verify. */
const unsignedToken = (payload: unknown) =>
  `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url(payload)}.bm90LWEtc2lnbmF0dXJl`;

describe("parseExplainInput", () => {
  it("decodes a token's payload without verifying it, and marks it so", () => {
    const claims = githubClaims({ runner_environment: "self-hosted" });
    expect(parseExplainInput(`${unsignedToken(claims)}\n`)).toEqual({ claims, fromToken: true });
  });

  it("reads JSON claims as before", () => {
    expect(parseExplainInput(' {"repository": "acme/app"}\n')).toEqual({
      claims: { repository: "acme/app" },
      fromToken: false,
    });
  });

  it("refuses what is neither, and a token whose payload is not a JSON object", () => {
    expect(typeof parseExplainInput("")).toBe("string");
    expect(typeof parseExplainInput("not a token")).toBe("string");
    expect(typeof parseExplainInput(`${b64url({ alg: "RS256" })}.${btoa("[1,2]")}.c2ln`)).toBe("string");
    expect(typeof parseExplainInput("a.b.c")).toBe("string");
  });
});

describe("policy:explain of a token", () => {
  it("says first that the claims were not verified, then explains them as usual", () => {
    const input = parseExplainInput(unsignedToken(githubClaims({ runner_environment: "self-hosted" })));
    if (typeof input === "string") throw new Error(input);
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: input.claims,
      fromToken: input.fromToken,
      args: { role: undefined, issuer: undefined, durationSeconds: undefined },
    });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(UNVERIFIED_TOKEN_NOTE);
    expect(lines[1]).toBe("DENY   guard_self_hosted_runner (rule acme-app-main-deploy)");
  });

  it("prints no such note for JSON claims", () => {
    const result = runPolicyExplain({
      policy: testPolicy,
      claims: githubClaims(),
      args: { role: undefined, issuer: undefined, durationSeconds: undefined },
    });
    expect(result.stdout).not.toContain("WITHOUT verifying");
  });
});
