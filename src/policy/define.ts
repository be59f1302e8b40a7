// What policy files import: `definePolicy` gives authors type checking and editor completion per issuer kind.
// Pure; no I/O. Compilation and validation happen in compile.ts.
import type { PolicyDefinition, PolicyIssuers } from "./types.ts";

export type {
  GitHubMatch,
  GithubPermissions,
  GithubTokenDefinition,
  GitLabMatch,
  GuardOptOuts,
  Id,
  Ids,
  Pattern,
  Patterns,
  PolicyDefinition,
  PolicyIssuers,
  RoleDefinition,
  RuleDefinition,
  RuleRoles,
} from "./types.ts";

/**
 * Declare a policy. Returns its argument unchanged; `compilePolicy` validates it. The `issuers` map (default
 * `{ github: "github" }`) types each rule: a rule for a `gitlab` issuer matches GitLab claims and its `when`
 * receives GitLab claims.
 */
export function definePolicy<const I extends PolicyIssuers = { github: "github" }>(
  policy: PolicyDefinition<I>,
): PolicyDefinition {
  // Checked against its own issuers here; handed on as the general type every consumer (compile, broker) takes.
  return policy as unknown as PolicyDefinition;
}
