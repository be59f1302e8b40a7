// What GitHub token grants need from the configuration: the token App. Without it the Worker still serves AWS
// credentials (a missing write-capable App must not take the whole broker down), logs the gap once per isolate, and
// answers every grant request `config_invalid`; `npm run preflight` lists the gap before a deploy. Pure; no I/O.
import type { GitHubAppCredentials } from "../github/api-call.ts";
import type { CompiledPolicy } from "../policy/compile.ts";

/** The write-capable App that mints GitHub token grants' installation tokens, and the REST API it lives on. */
export interface GitHubTokenAppOptions {
  app: GitHubAppCredentials;
  /** GITHUB_TOKEN_API_URL, no trailing slash (default https://api.github.com). */
  apiUrl: string;
}

/** The configuration's part grants need (src/config.ts): the token App, when configured. */
export interface TokenAppSetup {
  githubTokenApp?: GitHubTokenAppOptions | undefined;
}

/** The first rule granting a GitHub token, when no token App is configured; undefined when nothing is missing. */
export function tokenAppGap(policy: CompiledPolicy, config: TokenAppSetup): { rule: string } | undefined {
  if (config.githubTokenApp !== undefined) return undefined;
  const rule = policy.rules.find((candidate) => candidate.effect === "allow" && candidate.githubTokens.length > 0);
  return rule === undefined ? undefined : { rule: rule.id };
}

/** The once-per-isolate log line for the gap, or undefined. */
export function tokenAppWarning(policy: CompiledPolicy, config: TokenAppSetup): Record<string, unknown> | undefined {
  const gap = tokenAppGap(policy, config);
  return gap === undefined
    ? undefined
    : {
        message: "config_warning",
        reason: "github_token_app_missing",
        rule: gap.rule,
        detail: "set GITHUB_TOKEN_APP_ID and GITHUB_TOKEN_APP_PRIVATE_KEY",
      };
}
