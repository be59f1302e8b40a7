// The GitHub REST API answers the broker reads (API version 2022-11-28), only the fields it uses.
// Pure; no I/O. Unknown fields are ignored (GitHub adds fields freely); a missing or mistyped used field fails the
// call.
import * as z from "zod/mini";

const id = z.number().check(z.int(), z.nonnegative());
const sha = z.string().check(z.regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/));

/** GET /repos/{owner}/{repo}/installation */
export const InstallationSchema = z.object({ id });

/**
 * POST /app/installations/{id}/access_tokens. `token` is `ghs_` + 36 characters, or a stateless token (`ghs_` + a
 * JWT, about 520 characters, two dots) as GitHub rolls them out: both are opaque here, bounded in length.
 */
export const AccessTokenSchema = z.object({
  token: z.string().check(z.minLength(1), z.maxLength(4096)),
  expires_at: z.string().check(z.refine((value) => Number.isFinite(Date.parse(value)))),
});

/** GET /repos/{owner}/{repo} */
export const RepositorySchema = z.object({ id });

/** GET /repos/{owner}/{repo}/commits/{ref}/check-runs */
export const CheckRunsSchema = z.object({
  total_count: id,
  check_runs: z.array(
    z.object({
      id,
      name: z.string(),
      status: z.string(),
      conclusion: z.nullable(z.string()),
      // `app` is nullable in GitHub's schema; a run without an app can never satisfy a requirement.
      app: z.nullable(z.object({ id, slug: z.optional(z.string()) })),
    }),
  ),
});

/** A workflow run in GET /repos/{owner}/{repo}/actions/runs and GET .../actions/runs/{run_id}. */
export const WorkflowRunSchema = z.object({
  id,
  path: z.string(),
  event: z.string(),
  status: z.nullable(z.string()),
  conclusion: z.nullable(z.string()),
  head_sha: sha,
  head_branch: z.nullable(z.string()),
  run_attempt: z.optional(id),
  repository: z.object({ id }),
  // A fork pull request's run: the fork. Nullable here (a deleted fork): such a run never vouches for anything.
  head_repository: z.nullable(z.object({ id })),
});

/** GET /repos/{owner}/{repo}/actions/runs */
export const WorkflowRunListSchema = z.object({ total_count: id, workflow_runs: z.array(WorkflowRunSchema) });

/** GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs */
export const JobListSchema = z.object({
  total_count: id,
  jobs: z.array(z.object({ id, run_id: id, name: z.string(), status: z.string(), conclusion: z.nullable(z.string()) })),
});

/** A pull request in GET /repos/{owner}/{repo}/commits/{sha}/pulls and GET /repos/{owner}/{repo}/pulls/{n}. */
export const PullRequestSchema = z.object({
  number: id,
  state: z.string(),
  user: z.nullable(z.object({ id })),
  head: z.object({ sha }),
  base: z.object({ ref: z.string(), repo: z.object({ id }) }),
  merged_at: z.nullable(z.string()),
  merge_commit_sha: z.nullable(z.string()),
});

export const PullRequestListSchema = z.array(PullRequestSchema);

/** GET /repos/{owner}/{repo}/pulls/{n}/reviews (`author_association` is not read: it is no permission). */
export const ReviewListSchema = z.array(
  z.object({
    user: z.nullable(z.object({ id, login: z.string(), type: z.string() })),
    state: z.string(),
    commit_id: z.nullable(z.string()),
  }),
);

/** GET /repos/{owner}/{repo}/collaborators/{username}/permission (`role_name` may be a custom role: never judged). */
export const CollaboratorPermissionSchema = z.object({ permission: z.string(), user: z.nullable(z.object({ id })) });

/** GET /repos/{owner}/{repo}/rules/branches/{branch}: active rules; only `pull_request` parameters are read. */
export const BranchRulesSchema = z.array(
  z.object({
    type: z.string(),
    ruleset_id: z.optional(id),
    parameters: z.optional(
      z.object({
        required_approving_review_count: z.optional(id),
        dismiss_stale_reviews_on_push: z.optional(z.boolean()),
        require_last_push_approval: z.optional(z.boolean()),
      }),
    ),
  }),
);

/** GitHub's error body: only `message` is read (a rate limit vs a permission error; which 422 of access_tokens). */
export const ErrorBodySchema = z.object({ message: z.optional(z.string()) });

/**
 * POST /app/installations/{id}/access_tokens for a grant: what the token reaches, as GitHub says, to hold against
 * what was asked (src/github-tokens/scope.ts). `repositories` is listed when the token was scoped to some.
 */
export const GrantedTokenSchema = z.object({
  token: AccessTokenSchema.shape.token,
  expires_at: AccessTokenSchema.shape.expires_at,
  permissions: z.record(z.string(), z.string()),
  repository_selection: z.optional(z.string()),
  repositories: z.optional(z.array(z.object({ name: z.string() }))),
});
