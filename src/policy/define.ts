// What policy files import: `definePolicy` gives authors type checking and editor completion.
// Pure; no I/O. Compilation and validation happen in compile.ts.
import type { PolicyDefinition } from "./types.ts";

export type { GitHubMatch, PolicyDefinition, RoleDefinition, RuleDefinition, Pattern } from "./types.ts";

/** Declare a policy. Returns its argument unchanged; `compilePolicy` validates it. */
export function definePolicy<const P extends PolicyDefinition>(policy: P): P {
  return policy;
}
