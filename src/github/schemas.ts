// The GitHub REST API answers the broker reads (API version 2022-11-28), only the fields it uses.
// Pure; no I/O. Unknown fields are ignored (GitHub adds fields freely); a missing or mistyped used field fails the call.
import * as z from "zod/mini";

const id = z.number().check(z.int(), z.nonnegative());
const sha = z.string().check(z.regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/));

/** GET /repos/{owner}/{repo}/installation */
export const InstallationSchema = z.object({ id });

/** POST /app/installations/{id}/access_tokens */
export const AccessTokenSchema = z.object({
  token: z.string().check(z.minLength(1), z.maxLength(1024)),
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

/** GET /repos/{owner}/{repo}/actions/runs/{run_id} */
export const WorkflowRunSchema = z.object({
  id,
  event: z.string(),
  head_sha: sha,
  repository: z.object({ id }),
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

/** GET /repos/{owner}/{repo}/pulls/{n}/reviews */
export const ReviewListSchema = z.array(
  z.object({
    user: z.nullable(z.object({ id })),
    state: z.string(),
    commit_id: z.nullable(z.string()),
  }),
);

/** GitHub's error body: only `message` is read, to tell a secondary rate limit from a permission error. */
export const ErrorBodySchema = z.object({ message: z.optional(z.string()) });
