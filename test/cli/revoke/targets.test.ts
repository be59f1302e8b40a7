// Which roles a revocation reaches (src/cli/revoke/targets.ts): every allow rule that can match the subject, owner-wide
// and glob rules included, on the issuers the deployment configures; never a rule a subject condition rules out.
import { describe, expect, it } from "vitest";
import testPolicy from "../../fixtures/policies/index.ts";
import { findTargets, type ConfiguredIssuer } from "../../../src/cli/revoke/targets.ts";
import { compilePolicy } from "../../../src/policy/compile.ts";
import type { PolicyDefinition } from "../../../src/policy/types.ts";

const GITHUB: ConfiguredIssuer = { id: "github", kind: "github", url: "https://token.actions.githubusercontent.com" };
const GHES: ConfiguredIssuer = { id: "ghes", kind: "github", url: "https://ghes.example/_services/token" };
const GITLAB: ConfiguredIssuer = { id: "gitlab", kind: "gitlab", url: "https://gitlab.com" };
const compiled = compilePolicy(testPolicy);

const ruleIds = (targets: ReturnType<typeof findTargets>) =>
  targets.issuers.flatMap((issuer) => issuer.rules.map((rule) => `${issuer.id}:${rule.ruleId}`));

describe("findTargets", () => {
  it("finds the exact, id-pinned and owner-wide rules that can grant acme/app, and their roles", () => {
    const targets = findTargets(compiled, { repository: "acme/app" }, [GITHUB]);
    expect(ruleIds(targets)).toEqual([
      "github:acme-app-main-deploy",
      "github:acme-app-pull-request-readonly",
      "github:acme-release-publish",
    ]);
    expect(targets.roles.map((role) => [role.arn, role.maxDurationSeconds, role.grantedBy, role.issuerIds])).toEqual([
      ["arn:aws:iam::111122223333:role/acme-app-deploy", 3600, ["acme-app-main-deploy as deploy"], ["github"]],
      [
        "arn:aws:iam::111122223333:role/acme-app-readonly",
        900,
        ["acme-app-pull-request-readonly as readonly"],
        ["github"],
      ],
      ["arn:aws:iam::111122223333:role/acme-artifacts-publish", 900, ["acme-release-publish as publish"], ["github"]],
    ]);
    const publish = targets.issuers[0]?.rules.find((rule) => rule.ruleId === "acme-release-publish");
    expect(publish?.notes).toEqual([
      "repository_owner acme (owner-wide)",
      "repository_owner_id 51234567 (ids are not checked offline)",
    ]);
  });

  it("compares names case-insensitively, as GitHub does: Acme/App reaches the same roles", () => {
    expect(ruleIds(findTargets(compiled, { repository: "Acme/App" }, [GITHUB]))).toEqual(
      ruleIds(findTargets(compiled, { repository: "acme/app" }, [GITHUB])),
    );
  });

  it("skips the rules of an issuer the deployment does not configure, and those --issuer leaves out", () => {
    const unconfigured = findTargets(compiled, { repository: "acme/app" }, [GITHUB]);
    expect(unconfigured.skipped).toEqual([
      {
        id: "gitlab",
        reason: "not_configured",
        ruleIds: ["gitlab-acme-app-deploy", "gitlab-acme-app-merge-request-readonly"],
      },
    ]);
    const narrowed = findTargets(compiled, { repository: "acme/app" }, [GITHUB, GITLAB], { issuerIds: ["gitlab"] });
    expect(ruleIds(narrowed)).toEqual([
      "gitlab:gitlab-acme-app-deploy",
      "gitlab:gitlab-acme-app-merge-request-readonly",
    ]);
    expect(narrowed.skipped).toEqual([
      {
        id: "github",
        reason: "not_selected",
        ruleIds: ["acme-app-main-deploy", "acme-app-pull-request-readonly", "acme-release-publish"],
      },
    ]);
  });

  it("gives a role granted on two issuers both issuers' policies", () => {
    const targets = findTargets(compiled, { repository: "acme/app" }, [GITHUB, GITLAB]);
    expect(targets.roles.find((role) => role.arn.endsWith("role/acme-app-deploy"))?.issuerIds).toEqual([
      "github",
      "gitlab",
    ]);
  });

  it("keeps a GHES repository apart from a github.com one of another name", () => {
    const targets = findTargets(compiled, { repository: "platform/infra" }, [GITHUB, GHES]);
    expect(ruleIds(targets)).toEqual(["ghes:ghes-platform-infra-deploy"]);
    expect(targets.roles.map((role) => [role.account, role.roleName, role.partition])).toEqual([
      ["444455556666", "infra-deploy", "aws"],
    ]);
  });

  const roles = {
    app: { arn: "arn:aws:iam::111122223333:role/app" },
    web: { arn: "arn:aws:iam::111122223333:role/web" },
    same: { arn: "arn:aws:iam::111122223333:role/app" },
  };
  const policy: PolicyDefinition = {
    issuers: { github: "github", gitlab: "gitlab" },
    roles,
    rules: [
      { id: "glob", match: { repository: "acme/app-*" }, roles: ["app"] },
      { id: "other-owner", match: { repository: "other/app" }, roles: ["web"] },
      { id: "octocat-only", match: { repository_owner: "acme", actor: "octocat" }, roles: ["web"] },
      { id: "alias-same-arn", match: { repository: "acme/app-web" }, roles: { deploy: "same" } },
      { id: "subgroup", issuer: "gitlab", match: { namespace_path: "group/sub" }, roles: ["app"] },
      { id: "deny", effect: "deny", match: { repository: "acme/app-web" } },
    ],
  };

  it("matches globs, leaves out rules for other owners and actors, and merges roles that share an ARN", () => {
    const targets = findTargets(compilePolicy(policy), { repository: "acme/app-web", actor: "mallory" }, [GITHUB]);
    expect(ruleIds(targets)).toEqual(["github:glob", "github:alias-same-arn"]);
    expect(targets.issuers[0]?.rules[0]?.notes).toEqual(["repository acme/app-* (glob)"]);
    expect(targets.roles).toHaveLength(1);
    expect(targets.roles[0]?.grantedBy).toEqual(["glob as app", "alias-same-arn as deploy"]);
  });

  it("an actor alone reaches every rule that does not exclude the actor, whatever the repository", () => {
    const targets = findTargets(compilePolicy(policy), { actor: "OctoCat" }, [GITHUB]);
    expect(ruleIds(targets)).toEqual([
      "github:glob",
      "github:other-owner",
      "github:octocat-only",
      "github:alias-same-arn",
    ]);
    expect(targets.issuers[0]?.rules.find((rule) => rule.ruleId === "octocat-only")?.notes).toEqual([
      "repository_owner acme",
      "actor octocat",
    ]);
    expect(ruleIds(findTargets(compilePolicy(policy), { actor: "mallory" }, [GITHUB]))).not.toContain(
      "github:octocat-only",
    );
  });

  it("GitLab: a project's namespace is its path without the project, subgroups included", () => {
    expect(ruleIds(findTargets(compilePolicy(policy), { repository: "group/sub/app" }, [GITLAB]))).toEqual([
      "gitlab:subgroup",
    ]);
    expect(ruleIds(findTargets(compilePolicy(policy), { repository: "group/app" }, [GITLAB]))).toEqual([]);
  });

  it("adds --role ARNs for every targeted issuer, and refuses one that is not a role ARN", () => {
    const targets = findTargets(compiled, { repository: "acme/app" }, [GITHUB], {
      extraRoleArns: ["arn:aws:iam::999988887777:role/chained/target"],
    });
    expect(targets.roles.at(-1)).toEqual({
      arn: "arn:aws:iam::999988887777:role/chained/target",
      partition: "aws",
      account: "999988887777",
      roleName: "target",
      maxDurationSeconds: undefined,
      grantedBy: ["--role"],
      issuerIds: ["github"],
    });
    expect(() =>
      findTargets(compiled, { repository: "acme/app" }, [GITHUB], { extraRoleArns: ["arn:aws:iam::1:user/x"] }),
    ).toThrow(/not an IAM role ARN/);
  });
});
