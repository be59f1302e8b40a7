// Realistic GitHub Actions OIDC token claims, as GitHub documents them (all strings). Platform-neutral (workerd and
// Node 24). https://docs.github.com/en/actions/reference/security/oidc#oidc-token-claims

export const SAMPLE_SHA = "9f2c1e4d7b3a6058c1d2e3f4a5b6c7d8e9f0a1b2";

/** Realistic GitHub Actions claims (push to acme/app main). A fresh `jti` every call. */
export function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: crypto.randomUUID(),
    sub: "repo:acme/app:ref:refs/heads/main",
    ref: "refs/heads/main",
    ref_type: "branch",
    ref_protected: "true",
    sha: SAMPLE_SHA,
    repository: "acme/app",
    repository_id: "874563210",
    repository_owner: "acme",
    repository_owner_id: "51234567",
    repository_visibility: "private",
    run_id: "11122233344",
    run_number: "42",
    run_attempt: "1",
    runner_environment: "github-hosted",
    actor: "octocat",
    actor_id: "583231",
    workflow: "CI",
    workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
    workflow_sha: SAMPLE_SHA,
    job_workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
    job_workflow_sha: SAMPLE_SHA,
    head_ref: "",
    base_ref: "",
    event_name: "push",
    ...overrides,
  };
}
