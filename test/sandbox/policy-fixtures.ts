// The policies and helpers the sandbox's derivation tests share: another organisation's policy (globex), the examples
// derived from a policy as `npm start` derives them, and the broker's decision for the default sandbox token.
import { parseClaims } from "../../src/oidc/claims.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide } from "../../src/policy/decide.ts";
import { definePolicy } from "../../src/policy/define.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { deriveSandboxExamples, type SandboxExamples } from "../../sandbox/policy-examples.ts";

export const context = {
  npm: "npm --prefix '/p/' run -s",
  brokerUrl: "http://127.0.0.1:8787",
  sandboxOrigin: "http://127.0.0.1:8788",
};

export function examplesOf(policy: PolicyDefinition): SandboxExamples {
  const { jti: _jti, ...base } = githubClaims();
  return deriveSandboxExamples(compilePolicy(policy), "github", base);
}

/** What the broker decides for the token the sandbox mints by default (the issuer's defaults + the derived claims). */
export function defaultTokenDecision(
  policy: PolicyDefinition,
  examples: SandboxExamples,
  overrides: Record<string, string> = {},
) {
  const claims = parseClaims("github", {
    ...githubClaims(),
    iss: "http://127.0.0.1:8788",
    aud: "ci-credential-broker",
    iat: 1,
    nbf: 1,
    exp: 2,
    ...examples.defaultClaims,
    ...overrides,
  });
  return decide(compilePolicy(policy), {
    issuerId: "github",
    claims: claims as unknown as Record<string, unknown>,
    role: examples.granted?.role,
    durationSeconds: undefined,
  });
}

/** A small other organisation: trunk deploys, tagged releases publish, no GitHub facts, nothing of acme. */
export const globex = definePolicy({
  roles: {
    deploy: { arn: "arn:aws:iam::222233334444:role/globex-deploy", privileged: true },
    publish: { arn: "arn:aws:iam::222233334444:role/globex-publish", privileged: true },
    read: { arn: "arn:aws:iam::222233334444:role/globex-read" },
  },
  rules: [
    { id: "globex-legacy", effect: "deny", match: { repository: "globex/legacy-*" } },
    {
      id: "globex-api-trunk",
      match: {
        repository: "globex/api",
        repository_id: "5550001",
        ref: "refs/heads/trunk",
        event_name: ["push", "workflow_dispatch"],
      },
      roles: ["deploy"],
    },
    {
      id: "globex-api-tags",
      match: { repository: "globex/api", repository_id: "5550001", ref: "refs/tags/v*", ref_type: "tag" },
      roles: ["publish"],
    },
    { id: "globex-any-read", match: { repository_owner: "globex", repository_owner_id: "5550000" }, roles: ["read"] },
  ],
});
