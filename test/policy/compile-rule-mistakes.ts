// compilePolicy mistakes in rules: ids, matchers and patterns, scope and breadth, workflows, guards, limits.
import { type Mistake, role, rule } from "./compile-helpers.ts";

export const RULE_MISTAKES: Mistake[] = [
  [
    "duplicate rule id",
    { roles: { app: role }, rules: [rule, { ...rule, match: { repository: "acme/other" } }] },
    "rules[1] (r1)",
    "rule_invalid",
  ],
  [
    "rule with no conditions",
    { roles: { app: role }, rules: [{ ...rule, match: {} }] },
    "rules[0] (r1)",
    "rule_invalid",
  ],
  [
    "empty pattern list",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: [] } }] },
    "rules[0] (r1).match.repository",
    "pattern_invalid",
  ],
  [
    "empty pattern",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: "" } }] },
    "rules[0] (r1).match.repository",
    "pattern_invalid",
  ],
  [
    "unknown claim",
    { roles: { app: role }, rules: [{ ...rule, match: { repo: "acme/app" } as never }] },
    "rules[0] (r1).match.repo",
    "rule_invalid",
  ],
  [
    "GitLab claim in a GitHub rule",
    { roles: { app: role }, rules: [{ ...rule, match: { project_path: "acme/app" } as never }] },
    "rules[0] (r1).match.project_path",
    "rule_invalid",
  ],
  [
    "ambiguous glob",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: "acme/app", ref: "refs/***" } }] },
    "rules[0] (r1).match.ref",
    "pattern_invalid",
  ],
  [
    "id as a glob",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: "acme/app", repository_id: "87*" } }] },
    "rules[0] (r1).match.repository_id",
    "pattern_invalid",
  ],
  [
    "id that is not digits",
    { roles: { app: role }, rules: [{ ...rule, match: { repository_id: "0x1f" } }] },
    "rules[0] (r1).match.repository_id",
    "pattern_invalid",
  ],
  [
    "allow rule without roles",
    { roles: { app: role }, rules: [{ id: "r1", match: { repository: "acme/app" } }] },
    "rules[0] (r1)",
    "rule_invalid",
  ],
  [
    "deny rule with roles",
    { roles: { app: role }, rules: [{ ...rule, effect: "deny" }] },
    "rules[0] (r1)",
    "rule_invalid",
  ],
  [
    "deny rule with an opt-out",
    {
      roles: { app: role },
      rules: [{ id: "d", effect: "deny", match: { actor: "x" }, allowSelfHostedRunners: true }],
    },
    "rules[0] (d).allowSelfHostedRunners",
    "rule_invalid",
  ],
  [
    "misspelt opt-out",
    { roles: { app: role }, rules: [{ ...rule, allowSelfHostedRunner: true } as never] },
    "rules[0] (r1).allowSelfHostedRunner",
    "rule_invalid",
  ],
  [
    "opt-out set to false",
    { roles: { app: role }, rules: [{ ...rule, allowSelfHostedRunners: false } as never] },
    "rules[0] (r1).allowSelfHostedRunners",
    "rule_invalid",
  ],
  [
    "when that is not a function",
    { roles: { app: role }, rules: [{ ...rule, when: true } as never] },
    "rules[0] (r1).when",
    "rule_invalid",
  ],
  [
    "rate limit on a deny rule",
    {
      roles: { app: role },
      rules: [{ id: "d", effect: "deny", match: { actor: "x" }, rateLimit: { perMinute: 1, burst: 1 } }],
    },
    "rules[0] (d)",
    "rule_invalid",
  ],
  [
    "rule for an undeclared issuer",
    { roles: { app: role }, rules: [{ ...rule, issuer: "gitlab" }] },
    "rules[0] (r1)",
    "issuer_undeclared",
  ],
  [
    "issuer of an unknown kind",
    { issuers: { gh: "bitbucket" as never }, roles: { app: role }, rules: [] },
    "issuers.gh",
    "policy_invalid",
  ],
  // Breadth: allow rules must say whose code they trust, with the owner literal.
  [
    "allow rule with no repository condition at all",
    { roles: { app: role }, rules: [{ ...rule, match: { ref: "refs/heads/main" } }] },
    "rules[0] (r1)",
    "rule_unscoped",
  ],
  [
    "repository */* (every repository of every owner)",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: "*/*" } }] },
    "rules[0] (r1).match.repository",
    "pattern_too_broad",
  ],
  [
    "repository ** (everything)",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: "**" } }] },
    "rules[0] (r1).match.repository",
    "pattern_too_broad",
  ],
  [
    "repository */app (every owner's app)",
    { roles: { app: role }, rules: [{ ...rule, match: { repository: ["acme/app", "*/app"] } }] },
    "rules[0] (r1).match.repository",
    "pattern_too_broad",
  ],
  [
    "owner acme-* (owners anyone can create)",
    { roles: { app: role }, rules: [{ ...rule, match: { repository_owner: "acme-*" } }] },
    "rules[0] (r1).match.repository_owner",
    "pattern_too_broad",
  ],
  [
    "GitLab project **/app",
    {
      issuers: { gitlab: "gitlab" },
      roles: { app: role },
      rules: [{ ...rule, issuer: "gitlab", match: { project_path: "**/app" } }],
    },
    "rules[0] (r1).match.project_path",
    "pattern_too_broad",
  ],
  [
    "GitLab allow rule on ref only",
    {
      issuers: { gitlab: "gitlab" },
      roles: { app: role },
      rules: [{ ...rule, issuer: "gitlab", match: { ref: "main" } }],
    },
    "rules[0] (r1)",
    "rule_unscoped",
  ],
  // Reusable workflows: pinned exactly, with the caller's owner id.
  [
    "job_workflow_ref as a glob",
    {
      roles: { app: role },
      rules: [
        {
          ...rule,
          match: { repository_owner_id: "1", job_workflow_ref: "acme/wf/.github/workflows/*.yml@refs/heads/main" },
        },
      ],
    },
    "rules[0] (r1).match.job_workflow_ref",
    "workflow_ref_glob",
  ],
  [
    "job_workflow_ref without the caller's owner id",
    {
      roles: { app: role },
      rules: [
        {
          ...rule,
          match: { repository_owner: "acme", job_workflow_ref: "acme/wf/.github/workflows/x.yml@refs/heads/main" },
        },
      ],
    },
    "rules[0] (r1)",
    "workflow_caller_unpinned",
  ],
];
