// decide's matchers (src/policy/rule-index.ts, glob.ts): exact values, anchored globs, lists and ids, and issuers: a
// token from one issuer never matches another's rule.
import { describe, expect, it } from "vitest";
import { decide, ruleMatches } from "../../src/policy/decide.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { allowed, input, policyOf } from "./helpers.ts";

describe("matchers: exact values, anchored globs, lists, ids (table)", () => {
  // Each row: a rule's match, a claim override, whether it matches.
  const table: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    // Exact names: no prefixes, no suffixes, no case folding, no Unicode normalisation.
    ["exact name", { repository: "acme/api" }, { repository: "acme/api" }, true],
    ["exact vs acme/api-evil", { repository: "acme/api" }, { repository: "acme/api-evil" }, false],
    ["exact vs prefix acme/ap", { repository: "acme/api" }, { repository: "acme/ap" }, false],
    ["exact vs trailing dot acme/api.", { repository: "acme/api" }, { repository: "acme/api." }, false],
    ["exact vs case variant ACME/APP", { repository: "acme/app" }, { repository: "ACME/APP" }, false],
    ["exact vs case variant Acme/app", { repository: "acme/app" }, { repository: "Acme/app" }, false],
    ["exact vs dotless ı (U+0131)", { repository: "acme/kit" }, { repository: "acme/k\u0131t" }, false],
    ["exact vs Kelvin sign K (U+212A)", { repository: "acme/Kit" }, { repository: "acme/\u212Ait" }, false],
    ["exact vs Cyrillic а (U+0430)", { repository: "acme/app" }, { repository: "\u0430cme/app" }, false],
    [
      "exact vs NFD (e + combining acute) for é",
      { repository: "acme/caf\u00e9" },
      { repository: "acme/cafe\u0301" },
      false,
    ],
    ["exact vs trailing newline", { repository: "acme/app" }, { repository: "acme/app\n" }, false],
    ["exact vs zero-width space", { repository: "acme/app" }, { repository: "acme/app\u200b" }, false],
    [
      "__proto__ is just a string (match)",
      { repository: "acme/app", environment: "__proto__" },
      { environment: "__proto__" },
      true,
    ],
    [
      "__proto__ is just a string (no match)",
      { repository: "acme/app", environment: "__proto__" },
      { environment: "prod" },
      false,
    ],
    [
      "constructor is just a string",
      { repository: "acme/app", environment: "constructor" },
      { environment: "toString" },
      false,
    ],
    // Globs: `*` never crosses `/`; `**` does; anchored both ends.
    [
      "release/* vs release/1.2",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release/1.2" },
      true,
    ],
    [
      "release/* vs release-x",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release-x" },
      false,
    ],
    [
      "release/* vs refs/tags/release/1",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/tags/release/1" },
      false,
    ],
    [
      "release/* vs refs/pull/1/merge",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/pull/1/merge" },
      false,
    ],
    [
      "release/* vs release/a/b (* stays in its segment)",
      { repository: "acme/app", ref: "refs/heads/release/*" },
      { ref: "refs/heads/release/a/b" },
      false,
    ],
    [
      "release/** vs release/a/b",
      { repository: "acme/app", ref: "refs/heads/release/**" },
      { ref: "refs/heads/release/a/b" },
      true,
    ],
    ["acme/* vs acme/app", { repository: "acme/*" }, { repository: "acme/app" }, true],
    ["acme/* vs acme-evil/app", { repository: "acme/*" }, { repository: "acme-evil/app" }, false],
    [
      "acme/api* vs acme/api-evil (a glob means what it says)",
      { repository: "acme/api*" },
      { repository: "acme/api-evil" },
      true,
    ],
    [
      "glob dot is literal: v1.* vs v1x2",
      { repository: "acme/app", ref: "refs/tags/v1.*" },
      { ref: "refs/tags/v1x2" },
      false,
    ],
    // Lists: any of.
    ["list, second item", { repository: ["acme/api", "acme/app"] }, { repository: "acme/app" }, true],
    ["list, none", { repository: ["acme/api", "acme/web"] }, { repository: "acme/app" }, false],
    // Claims given as arrays, numbers, objects never match (the schema refuses them first; decide holds anyway).
    ["claim given as an array", { repository: "acme/app" }, { repository: ["acme/app"] }, false],
    [
      "claim given as an array of the list",
      { repository: ["acme/app", "acme/api"] },
      { repository: ["acme/app", "acme/api"] },
      false,
    ],
    [
      "claim given as a number",
      { repository: "acme/app", repository_id: "874563210" },
      { repository_id: 874563210 },
      false,
    ],
    [
      "claim given as an object with toString",
      { repository: "acme/app" },
      { repository: { toString: () => "acme/app" } },
      false,
    ],
    ["absent claim", { repository: "acme/app", environment: "prod" }, { environment: undefined }, false],
    // Ids: a right name with a wrong id inherits nothing.
    ["name and id both right", { repository: "acme/app", repository_id: "874563210" }, {}, true],
    [
      "right name, wrong repository_id (recycled name)",
      { repository: "acme/app", repository_id: "874563210" },
      { repository_id: "999" },
      false,
    ],
    [
      "right name, wrong repository_owner_id (transferred org)",
      { repository_owner: "acme", repository_owner_id: "51234567" },
      { repository_owner_id: "1" },
      false,
    ],
    [
      "renamed repository, same id, rule pins only the id",
      { repository_id: "874563210" },
      { repository: "acme/renamed" },
      true,
    ],
    ["id with a leading zero is another id", { repository_id: "874563210" }, { repository_id: "0874563210" }, false],
  ];
  it.each(table)("%s", (_name, match, claims, matches) => {
    const policy = policyOf([{ id: "r", match, roles: ["a"] }]);
    expect(allowed(decide(policy, input(claims)))).toBe(matches);
  });

  it("claims are read as own properties only (a prototype's value never matches)", () => {
    const policy = policyOf([{ id: "r", match: { repository: "acme/app", environment: "prod" }, roles: ["a"] }]);
    const claims = Object.assign(Object.create({ environment: "prod" }) as Record<string, unknown>, githubClaims());
    expect(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("a claims object whose own __proto__ key came from JSON is matched as data", () => {
    const policy = policyOf([{ id: "r", match: { repository: "acme/app" }, roles: ["a"] }]);
    const claims = JSON.parse(
      `{"__proto__": {"repository": "acme/app"}, "repository": "acme/evil", "runner_environment": "github-hosted"}`,
    ) as Record<string, unknown>;
    expect(allowed(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined }))).toBe(
      false,
    );
  });
});

describe("issuers: a token from one issuer never matches a rule for another", () => {
  const policy = policyOf(
    [
      { id: "gh", match: { repository: "acme/app" }, roles: ["a"] },
      { id: "ghes", issuer: "ghes", match: { repository: "acme/app" }, roles: ["b"], allowSelfHostedRunners: true },
      { id: "gl", issuer: "gitlab", match: { project_path: "acme/app" }, roles: ["b"] },
    ],
    { github: "github", ghes: "github", gitlab: "gitlab" },
  );

  it.each([
    ["github", "gh", "a"],
    ["ghes", "ghes", "b"],
  ])("identical GitHub claims from %s match only rule %s", (issuerId, ruleId, alias) => {
    expect(decide(policy, input({}, { issuerId }))).toMatchObject({ allowed: true, ruleId, alias });
  });

  it("GitLab claims match the GitLab rule only; the same claims under a GitHub issuer match nothing", () => {
    const claims = gitlabClaims();
    expect(decide(policy, { issuerId: "gitlab", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: true,
      ruleId: "gl",
    });
    expect(decide(policy, { issuerId: "github", claims, role: undefined, durationSeconds: undefined })).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("GitHub claims presented as the gitlab issuer's match no GitLab rule (and production's schema refuses them first)", () => {
    expect(decide(policy, input({}, { issuerId: "gitlab" }))).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
  });

  it("ruleMatches checks the issuer first", () => {
    const gh = policy.rules.find((rule) => rule.id === "gh");
    expect(gh !== undefined && ruleMatches(gh, "ghes", input().claims)).toBe(false);
  });
});
