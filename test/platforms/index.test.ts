// The platform registry and what every platform module must satisfy, whichever platform it is: a new module that
// breaks one of these breaks the broker's generic stages (STS's alphabets, the kill switch's keys, the policy).
import { describe, expect, it } from "vitest";
import { isValidTagKey } from "../../src/aws/session-tags.ts";
import { IssuerListSchema, SUPPORTED_ALGORITHMS } from "../../src/oidc/issuers.ts";
import { byKind, ISSUER_KINDS, platformOf } from "../../src/platforms/index.ts";

const STS_NAME = /^[\w+=,.@-]+$/;

describe("the platform registry", () => {
  it("lists the kinds in registry order, and ISSUERS accepts exactly those", () => {
    expect(ISSUER_KINDS).toEqual(["github", "gitlab"]);
    const entry = (kind: string) => ({ kind, issuer: "https://issuer.example", audiences: ["sts.amazonaws.com"] });
    for (const kind of ISSUER_KINDS) expect(IssuerListSchema.safeParse([entry(kind)]).success).toBe(true);
    expect(IssuerListSchema.safeParse([entry("buildkite")]).success).toBe(false);
  });

  it("byKind builds one value per kind from its platform", () => {
    expect(byKind((platform, kind) => `${kind}:${platform.webIdentity.noun}`)).toEqual({
      github: "github:repo",
      gitlab: "gitlab:project",
    });
  });
});

describe.each(ISSUER_KINDS)("platform %s", (kind) => {
  const platform = platformOf(kind);

  it("defaults to signing algorithms the verifier supports", () => {
    expect(platform.defaultAlgorithms.length).toBeGreaterThan(0);
    for (const alg of platform.defaultAlgorithms) expect(SUPPORTED_ALGORITHMS).toContain(alg);
  });

  it("tags sessions with distinct keys STS accepts, the repository and actor claims among them", () => {
    const keys = platform.sessionTags.map((tag) => tag.key);
    for (const key of keys) expect(isValidTagKey(key)).toBe(true);
    expect(new Set(keys.map((key) => key.toLowerCase())).size).toBe(keys.length);
    expect(keys).not.toContain("Issuer");
    const claims = platform.sessionTags.map((tag) => tag.claim);
    expect(claims).toContain(platform.identity.repositoryClaim);
    expect(claims).toContain(platform.identity.actorClaim);
  });

  it("has session prefixes STS accepts that no other platform shares", () => {
    const { saasPrefix, instancePrefix } = platform.identity;
    expect(`${saasPrefix}x`).toMatch(STS_NAME);
    expect(instancePrefix).toMatch(/^[a-z]+$/);
    for (const other of ISSUER_KINDS.filter((each) => each !== kind)) {
      expect(platformOf(other).identity.saasPrefix).not.toBe(saasPrefix);
      expect(platformOf(other).identity.instancePrefix).not.toBe(instancePrefix);
    }
  });

  it("matches on claims that are consistent: ids, scope, index, name-id pairs and case-insensitive names are among all", () => {
    const { all, ids, scope, ownerFixed, nameIds, index, caseInsensitive } = platform.matchKeys;
    for (const claim of [...ids, ...scope, ...index, ...nameIds.flat(), ...caseInsensitive])
      expect(all).toContain(claim);
    for (const claim of ownerFixed) expect(scope).toContain(claim);
    expect(platform.guards.trustedEvents.size).toBeGreaterThan(0);
  });

  it("has kill-switch nouns of its own that never collide with the issuer key", () => {
    const { repository, owner, actor } = platform.killSwitch;
    expect(new Set([repository, owner, actor, "issuer"]).size).toBe(4);
    expect(platform.killSwitch.owners("acme")).toEqual(["acme"]);
  });
});
