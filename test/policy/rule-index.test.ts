import { describe, expect, it } from "vitest";
import { compilePolicy, type CompiledPolicy } from "../../src/policy/compile.ts";
import { decide, ruleMatches, type DecisionInput } from "../../src/policy/decide.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";
import { input, policyOf, roles } from "./helpers.ts";

describe("the index never changes a decision", () => {
  // Random small policies over a small alphabet, decided with the index and by scanning every rule in order.
  const repos = ["acme/app", "acme/api", "acme/web", "beta/app"];
  const refs = ["refs/heads/main", "refs/heads/dev", "refs/pull/1/merge"];
  const pick = <T>(list: readonly T[], n: number) => list[n % list.length] as T;

  function naive(policy: CompiledPolicy, input: DecisionInput): string {
    if (policy.denyRules.some((rule) => ruleMatches(rule, input.issuerId, input.claims))) return "deny";
    const granted = policy.allowRules.filter((rule) => ruleMatches(rule, input.issuerId, input.claims));
    return granted.length === 0 ? "none" : `allow:${granted[0]?.id}`;
  }

  it("agrees with a full scan on 300 random policy/token pairs", () => {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const rules: PolicyDefinition["rules"] = Array.from({ length: 1 + (next() % 8) }, (_, i) => {
        const shape = next() % 5;
        const match =
          shape === 0
            ? { repository: pick(repos, next()), ref: pick(refs, next()) }
            : shape === 1
              ? { repository: [pick(repos, next()), pick(repos, next())] }
              : shape === 2
                ? { repository: "acme/*", ref: pick(refs, next()) }
                : shape === 3
                  ? { repository_owner: pick(["acme", "beta"], next()) }
                  : { repository_id: pick(["1", "2"], next()) };
        return next() % 6 === 0
          ? { id: `d${i}`, effect: "deny" as const, match }
          : { id: `r${i}`, match, roles: ["a"], allowUnprotectedRefs: true as const };
      });
      const compiled = compilePolicy({ roles, rules });
      const claims = input({
        repository: pick(repos, next()),
        repository_owner: pick(["acme", "beta"], next()),
        repository_id: pick(["1", "2", "3"], next()),
        ref: pick(refs, next()),
      });
      const decision = decide(compiled, claims);
      const expected = naive(compiled, claims);
      const actual = decision.allowed
        ? `allow:${decision.ruleId}`
        : decision.reason === "explicit_deny"
          ? "deny"
          : "none";
      expect(actual, JSON.stringify({ rules, claims: claims.claims })).toBe(expected);
    }
  });

  it("a 1,000-rule policy decides by index (and still finds a glob rule at the end)", () => {
    const rules: PolicyDefinition["rules"] = [
      ...Array.from({ length: 999 }, (_, i) => ({
        id: `repo-${i}`,
        match: { repository: `acme/repo-${i}`, ref: "refs/heads/main" },
        roles: ["a"],
      })),
      { id: "glob", match: { repository: "acme/svc-*" }, roles: ["b"] },
    ];
    const compiled = compilePolicy({ roles, rules });
    const set = compiled.issuers.get("github")?.allow;
    expect(set?.scan).toEqual([]);
    expect(
      set?.bySegment
        .find((entry) => entry.claim === "repository")
        ?.values.get("acme")
        ?.map((rule) => rule.id),
    ).toEqual(["glob"]);
    expect(decide(compiled, input({ repository: "acme/repo-500" }))).toMatchObject({
      allowed: true,
      ruleId: "repo-500",
    });
    expect(decide(compiled, input({ repository: "acme/svc-x" }))).toMatchObject({ allowed: true, ruleId: "glob" });
    expect(decide(compiled, input({ repository: "acme/repo-1000" }))).toMatchObject({ allowed: false });
  });
});

describe("the segment index", () => {
  it("tests a glob rule only for tokens of its own owner, and an unindexable deny for every token", () => {
    const compiled = policyOf(
      [
        { id: "deny-everything-legacy", effect: "deny", match: { repository: "**/legacy" } },
        { id: "acme-glob", match: { repository: ["acme/svc-*", "acme/app"] }, roles: ["a"] },
        { id: "gitlab-deep", issuer: "gitlab", match: { project_path: "acme/platform/**" }, roles: ["a"] },
      ],
      { github: "github", gitlab: "gitlab" },
    );
    const github = compiled.issuers.get("github");
    expect(github?.deny.scan.map((rule) => rule.id)).toEqual(["deny-everything-legacy"]);
    expect(decide(compiled, input({ repository: "acme/svc-x" }))).toMatchObject({ allowed: true, ruleId: "acme-glob" });
    expect(decide(compiled, input({ repository: "acme/app" }))).toMatchObject({ allowed: true, ruleId: "acme-glob" });
    expect(decide(compiled, input({ repository: "acme/legacy" }))).toMatchObject({
      allowed: false,
      reason: "explicit_deny",
    });
    expect(decide(compiled, input({ repository: "acmex/svc-x" }))).toMatchObject({
      allowed: false,
      reason: "no_matching_rule",
    });
    const gl = (project_path: string) =>
      decide(compiled, {
        issuerId: "gitlab",
        claims: gitlabClaims({ project_path }),
        role: undefined,
        durationSeconds: undefined,
      });
    expect(gl("acme/platform/team/app")).toMatchObject({ allowed: true });
    expect(gl("acme/other/app")).toMatchObject({ allowed: false });
  });
});
