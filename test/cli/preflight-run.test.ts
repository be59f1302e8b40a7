// The core of `npm run preflight` (src/cli/preflight-run.ts and the checks it runs): one wrangler environment, the
// policies and the secret names in; one line per problem (keyed by its stable code), a summary and an exit code out.
// What passes here; what fails is preflight-failures.test.ts. The Node entry (src/cli/preflight.ts) reads wrangler.toml
// with wrangler's reader: test/e2e/preflight.test.ts.
import { describe, expect, it } from "vitest";
import candidatePolicy from "../fixtures/policies/candidate.ts";
import { deploymentEnvFrom } from "../../src/cli/deployment-env.ts";
import { runPreflight } from "../../src/cli/preflight-run.ts";
import {
  SIGV4_SECRETS,
  ALL_SECRETS,
  UNIQUE_ISSUERS,
  production,
  sandbox,
  preflight,
  withVars,
} from "./preflight-helpers.ts";

describe("runPreflight", () => {
  it("passes a complete production environment (exit 0, no line but the header and the summary)", () => {
    const result = preflight(production, { secrets: ALL_SECRETS });
    expect(result.problems).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      "preflight: wrangler.toml top level; policies/index.ts; secret names from --secrets\npreflight: ok, top level\n",
    );
  });

  it("refuses the example policy on the shipped top level: GITHUB_APP_ID is empty and a rule uses `require`", () => {
    const shipped = withVars({
      ISSUERS: UNIQUE_ISSUERS.replace("acme-ci-credential-broker-prod", "ci-credential-broker"),
      GITHUB_APP_ID: "",
      GITHUB_TOKEN_APP_ID: "",
    });
    const result = preflight({ ...shipped, kv_namespaces: sandbox.kv_namespaces });
    expect(result.exitCode).toBe(1);
    expect(result.problems).toEqual([
      "kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE",
      "github_app_missing var GITHUB_APP_ID",
      "github_token_app_missing var GITHUB_TOKEN_APP_ID",
      "audience_shared_default var ISSUERS",
    ]);
    expect(result.stdout).toMatch(
      /^error github_token_app_missing var GITHUB_TOKEN_APP_ID: is empty, but rule acme-app-release-homebrew-tap \(policies\/index\.ts\) grants GitHub tokens/m,
    );
    expect(result.stdout).toMatch(
      /^error github_app_missing var GITHUB_APP_ID: is empty, but rule acme-app-main-deploy \(policies\/index\.ts\) uses `require`/m,
    );
    // Without a secret source, the secrets the configuration needs are named as not checked, in one line: never a
    // silent pass.
    expect(result.stdout).toMatch(
      /^not checked: the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_TOKEN_APP_PRIVATE_KEY \(no --secrets or --secrets-file;/m,
    );
    expect(result.stdout).toMatch(/\npreflight: 4 problems in top level: do not deploy\n$/);
  });

  it("passes the sandbox: local issuers make the placeholder KV id and the shared default audience harmless", () => {
    const result = preflight(sandbox, {
      secrets: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
      environment: "sandbox",
    });
    expect(result.problems).toEqual([]);
    expect(result.stdout).toMatch(
      /preflight: ok, env\.sandbox \(local issuers only: the production-only checks were skipped\)\n$/,
    );
  });

  it("applies the production-only rules to an environment with a real issuer, whatever its name", () => {
    const result = preflight(
      withVars(
        {
          ISSUERS:
            '[{"kind":"github","issuer":"https://token.actions.githubusercontent.com","audiences":["ci-credential-broker"]}]',
        },
        sandbox,
      ),
      {
        secrets: [...SIGV4_SECRETS, "BROKER_SIGNING_KEY", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN_APP_PRIVATE_KEY"],
        environment: "sandbox",
      },
    );
    expect(result.problems).toEqual([
      "kv_namespace_placeholder [[kv_namespaces]] JWKS_CACHE",
      "loopback_url var STS_ENDPOINT",
      "audience_shared_default var ISSUERS",
    ]);
  });

  it("without a secret source, passes what it can check and says which secrets it did not (exit 0)", () => {
    const result = preflight(production);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(
      /^not checked: the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, GITHUB_APP_PRIVATE_KEY, GITHUB_TOKEN_APP_PRIVATE_KEY /m,
    );
  });

  it("passes shadow mode with a candidate that compiles", () => {
    expect(
      preflight(withVars({ SHADOW_POLICY: "on" }), { secrets: ALL_SECRETS, candidate: candidatePolicy }).problems,
    ).toEqual([]);
  });

  it("never prints a secret's value, even one kept in [vars]", () => {
    const value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    expect(preflight(withVars({ AWS_SECRET_ACCESS_KEY: value }), { secrets: ALL_SECRETS }).stdout).not.toContain(value);
  });

  it("reports a policy that cannot be loaded, and still checks the configuration", () => {
    const result = runPreflight({
      configFile: "wrangler.toml",
      env: deploymentEnvFrom(withVars({ GITHUB_APP_ID: "" }), undefined),
      policy: { file: "policies/index.ts", error: "SyntaxError" },
      candidate: undefined,
      secrets: undefined,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^error policy_unloadable policies\/index\.ts: cannot be loaded: SyntaxError$/m);
  });
});
