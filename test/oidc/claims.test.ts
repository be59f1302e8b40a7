import { describe, expect, it } from "vitest";
import { parseClaims } from "../../src/oidc/claims.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { invalidToken, rejection } from "./helpers.ts";

const parse = (payload: unknown) => rejection(Promise.resolve().then(() => parseClaims("github", payload)));

describe("parseClaims (github)", () => {
  it("keeps the GitHub claims and drops unknown ones", () => {
    const claims = parseClaims("github", { ...githubClaims(), iss: "https://x", aud: "y", exp: 1, custom_claim: "z" });
    expect(claims.repository).toBe("acme/app");
    expect(claims.repository_id).toBe("874563210");
    expect(claims.head_ref).toBe("");
    expect(claims).not.toHaveProperty("custom_claim");
    expect(claims).not.toHaveProperty("iss");
    expect(claims).not.toHaveProperty("jti");
  });

  it("accepts a token with only the required claims", () => {
    const required = Object.fromEntries(
      [
        "sub",
        "repository",
        "repository_id",
        "repository_owner",
        "repository_owner_id",
        "ref",
        "sha",
        "workflow",
        "event_name",
        "actor",
        "actor_id",
        "run_id",
        "run_number",
        "run_attempt",
      ].map((name) => [name, githubClaims()[name]]),
    );
    expect(parseClaims("github", required).environment).toBeUndefined();
  });

  it.each([
    ["repository as an array", { repository: ["acme/app"] }],
    ["repository as a number", { repository: 42 }],
    ["repository as null", { repository: null }],
    ["repository empty", { repository: "" }],
    ["environment as an array", { environment: ["prod"] }],
    ["ref as an object", { ref: { toString: "refs/heads/main" } }],
    ["repository_id not digits", { repository_id: "12a4" }],
    ["repository_id as a number", { repository_id: 874563210 }],
    ["actor_id negative", { actor_id: "-1" }],
    ["run_attempt empty", { run_attempt: "" }],
    ["enterprise_id not digits", { enterprise_id: "acme" }],
    ["check_run_id as a number", { check_run_id: 7 }],
    ["ref_protected as a boolean", { ref_protected: true }],
  ])("rejects %s as claims_invalid", async (_name, override) => {
    expect(await parse(githubClaims(override))).toEqual(invalidToken("claims_invalid"));
  });

  it.each(["sub", "repository", "repository_owner_id", "sha", "run_id"])("rejects a token without %s", async (name) => {
    const claims = githubClaims();
    delete claims[name];
    expect(await parse(claims)).toEqual(invalidToken("claims_invalid"));
  });

  it.each([null, [], "claims", 42])("rejects a non-object payload %#", async (payload) => {
    expect(await parse(payload)).toEqual(invalidToken("claims_invalid"));
  });
});
