// Realistic GitLab CI/CD ID token claims, as GitLab documents them: ids as decimal strings except
// `runner_id` (a JSON number), booleans as "true"/"false". Platform-neutral (workerd and Node 24).
// https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload

const SAMPLE_SHA = "714a629c0b401fdce83e847fc9589983fc6f46bc";

/** A push to the protected main branch of acme/app on a GitLab-hosted runner. A fresh `jti` every call. */
export function gitlabClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: crypto.randomUUID(),
    sub: "project_path:acme/app:ref_type:branch:ref:main",
    namespace_id: "72",
    namespace_path: "acme",
    project_id: "4242",
    project_path: "acme/app",
    user_id: "1",
    user_login: "sample-user",
    user_email: "sample-user@example.com",
    user_access_level: "developer",
    pipeline_id: "574",
    pipeline_source: "push",
    job_id: "302",
    ref: "main",
    ref_type: "branch",
    ref_path: "refs/heads/main",
    ref_protected: "true",
    runner_id: 1,
    runner_environment: "gitlab-hosted",
    sha: SAMPLE_SHA,
    project_visibility: "private",
    ci_config_ref_uri: "gitlab.example.com/acme/app//.gitlab-ci.yml@refs/heads/main",
    ci_config_sha: SAMPLE_SHA,
    ...overrides,
  };
}
