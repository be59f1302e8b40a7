// The organisation's policy, compiled into the Worker. Default deny: only what a rule grants is allowed.
// This is the example policy the local sandbox uses; replace the roles and rules with your own (docs/policy.md).
// Checked by `npm run policy:check`, tested by policies/tests/*.fixtures.ts (`npm run policy:test`).
import { definePolicy } from "../src/policy/define.ts";

export default definePolicy({
  // Issuer ids as configured in ISSUERS, with their kind. An id the deployment does not configure is inert.
  issuers: { github: "github", ghes: "github", gitlab: "gitlab" },

  roles: {
    // Deploys from main. Privileged: only from a protected ref or a named environment, never from refs/pull/*.
    // The role's trust policy should also require the session tags (docs/aws.md).
    deploy: {
      arn: "arn:aws:iam::111122223333:role/acme-app-deploy",
      maxDurationSeconds: 3600,
      privileged: true,
      sessionTags: { Team: "platform" },
    },
    // Pull requests may read, never write: the session policy narrows the role further.
    readonly: {
      arn: "arn:aws:iam::111122223333:role/acme-app-readonly",
      sessionPolicy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*" }],
      },
    },
    // Infrastructure in another account, behind a permissions boundary; its cost-centre tag survives role chaining.
    // No `externalId` here: a role with one works in sigv4 mode only (AssumeRoleWithWebIdentity has no ExternalId),
    // and this example runs in both modes (`npm start` and `npm start -- --web-identity`).
    "infra-deploy": {
      arn: "arn:aws:iam::444455556666:role/ci/infra-deploy",
      maxDurationSeconds: 3600,
      privileged: true,
      managedPolicyArns: ["arn:aws:iam::444455556666:policy/ci/infra-boundary"],
      sessionTags: { CostCenter: "infra" },
      transitiveTagKeys: ["CostCenter"],
    },
    // Publishing build artefacts, only through the shared reusable release workflow.
    publish: {
      arn: "arn:aws:iam::111122223333:role/acme-artifacts-publish",
      managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
    },
  },

  // GitHub token grants (docs/github-tokens.md): installation tokens of the broker's token App, scoped to exactly these
  // repositories and permissions. Any write makes a grant privileged: rules granting it are held to the privileged
  // guards.
  githubTokens: {
    // Releases push their formula to the tap and open a pull request there.
    "homebrew-tap": {
      owner: "acme",
      repositories: ["homebrew-tap"],
      permissions: { contents: "write", pull_requests: "write" },
    },
    // Builds read a private library (read-only: not privileged).
    "private-deps": { owner: "acme", repositories: ["private-lib"], permissions: { contents: "read" } },
  },

  rules: [
    // Deny rules are evaluated first and win: archived repositories never get credentials again.
    {
      id: "deny-archived-repositories",
      effect: "deny",
      description: "Archived repositories keep their names; nothing they run may reach AWS.",
      match: { repository: "acme/legacy-*" },
    },

    // --- github.com ---------------------------------------------------------------------------------
    {
      id: "acme-app-main-deploy",
      description: "acme/app deploys from main on push or manual dispatch.",
      match: {
        repository: "acme/app",
        repository_id: "874563210",
        ref: "refs/heads/main",
        event_name: ["push", "workflow_dispatch"],
      },
      roles: ["deploy"],
      // From GitHub's own record, through the GitHub App (docs/github-facts.md): the `dependency-review` job of the
      // push run of .github/workflows/dependency-review.yml on this commit and branch passed (a job GitHub ran, not a
      // check run, which any workflow with `checks: write` can create), and the commit is a merged pull request
      // approved by someone with write access other than its author, with no writer's change request standing.
      // The race-free alternative, when the deploy job `needs:` the scan in its own run: `{ job: "dependency-review"
      // }`.
      require: {
        checks: [
          { workflow: ".github/workflows/dependency-review.yml", job: "dependency-review", conclusion: ["success"] },
        ],
        pullRequest: { approvals: 1 },
      },
    },
    {
      id: "acme-app-pull-request-readonly",
      description: "acme/app pull requests may read.",
      match: { repository: "acme/app", repository_id: "874563210", event_name: "pull_request" },
      roles: ["readonly"],
    },
    {
      id: "acme-docs-readonly",
      description: "acme/docs may read from any event, but only from workflows defined in acme/docs itself.",
      match: { repository: "acme/docs", repository_id: "874563299" },
      // What matchers cannot say: a comparison between two claims.
      when: (claims) => claims.job_workflow_ref?.startsWith(`${claims.repository}/`) === true,
      roles: ["readonly"],
    },
    {
      id: "acme-infra-production",
      description: "acme/infra deploys through its `production` environment (required reviewers live there).",
      match: { repository: "acme/infra", repository_id: "874563300", environment: "production" },
      // Clients ask for "deploy"; for this repository that means the infra-deploy role.
      roles: { deploy: "infra-deploy" },
      rateLimit: { perMinute: 10, burst: 5 },
    },
    {
      id: "acme-release-publish",
      description: "Any acme repository may publish, but only by calling the shared release workflow from main.",
      match: {
        repository_owner: "acme",
        repository_owner_id: "51234567",
        job_workflow_ref: "acme/shared-workflows/.github/workflows/release.yml@refs/heads/main",
      },
      roles: ["publish"],
    },

    {
      id: "acme-app-release-homebrew-tap",
      description:
        "acme/app updates its Homebrew formula when it pushes a release tag v* (protected: homebrew-tap writes, so the privileged guard checks).",
      match: { repository: "acme/app", repository_id: "874563210", ref: "refs/tags/v*", event_name: "push" },
      githubTokens: ["homebrew-tap"],
    },
    {
      id: "acme-private-deps",
      // Fork pull requests get no OIDC token from GitHub (unless a private repository sends write tokens to fork
      // workflows: keep that setting off), and pull_request_target is refused by a guard (docs/github-tokens.md).
      description: "Any acme repository may read acme/private-lib on push or pull_request.",
      match: { repository_owner: "acme", repository_owner_id: "51234567", event_name: ["push", "pull_request"] },
      githubTokens: ["private-deps"],
    },

    // --- GitHub Enterprise Server (no GitHub-hosted runners there) ----------------------------------------
    {
      id: "ghes-platform-infra-deploy",
      issuer: "ghes",
      match: { repository: "platform/infra", repository_id: "1042", ref: "refs/heads/main" },
      roles: { deploy: "infra-deploy" },
      allowSelfHostedRunners: true,
    },

    // --- GitLab -------------------------------------------------------------------------------------
    {
      id: "gitlab-acme-app-deploy",
      issuer: "gitlab",
      description: "GitLab acme/app deploys from the main branch (protected: the privileged guard checks).",
      match: { project_path: "acme/app", project_id: "4242", ref_type: "branch", ref: "main" },
      roles: ["deploy"],
    },
    {
      id: "gitlab-acme-app-merge-request-readonly",
      issuer: "gitlab",
      match: { project_path: "acme/app", project_id: "4242", pipeline_source: "merge_request_event" },
      roles: ["readonly"],
    },
  ],
});
