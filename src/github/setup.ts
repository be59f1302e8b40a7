// What rules with requirements need from the configuration: the GitHub App and their issuer's REST API. The Worker
// refuses a deployment that lacks them at start (config_invalid); `npm run preflight` lists the same gaps before a
// deploy.
// Pure; no I/O.
import { BrokerError } from "../errors.ts";
import type { IssuerConfig } from "../oidc/issuers.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import type { GitHubAppCredentials } from "./api-call.ts";

/** The configuration's part requirements need (src/config.ts): the facts App and the issuers' API URLs. */
export interface GitHubSetup {
  githubApp?: GitHubAppCredentials | undefined;
  issuers: ReadonlyArray<Pick<IssuerConfig, "id" | "apiUrl">>;
}

export interface GitHubSetupGap {
  /**
   * `github_app_missing`: no GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY; `github_api_url_missing`: the issuer has no API
   * URL.
   */
  reason: "github_app_missing" | "github_api_url_missing";
  /** The rule with requirements. */
  rule: string;
  /** The ISSUERS id without an API URL (github_api_url_missing only). */
  issuer?: string;
}

/**
 * Every rule with requirements the configuration cannot serve, in rule order. An issuer id the deployment does not
 * configure stays inert (its rules never match), so it needs no API URL.
 */
export function githubSetupGaps(policy: CompiledPolicy, config: GitHubSetup): GitHubSetupGap[] {
  const gaps: GitHubSetupGap[] = [];
  for (const rule of policy.rules) {
    if (rule.requirements === undefined) continue;
    if (config.githubApp === undefined) gaps.push({ reason: "github_app_missing", rule: rule.id });
    const issuer = config.issuers.find((candidate) => candidate.id === rule.issuer);
    if (issuer !== undefined && issuer.apiUrl === undefined)
      gaps.push({ reason: "github_api_url_missing", rule: rule.id, issuer: issuer.id });
  }
  return gaps;
}

/** Refused at start, never discovered by the first request that needs it: throws config_invalid for the first gap. */
export function checkGitHubSetup(policy: CompiledPolicy, config: GitHubSetup): void {
  const [gap] = githubSetupGaps(policy, config);
  if (gap === undefined) return;
  const cause =
    gap.reason === "github_app_missing"
      ? `rule ${gap.rule} has requirements: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY`
      : `rule ${gap.rule}: set api_url for issuer ${gap.issuer ?? ""} in ISSUERS`;
  throw new BrokerError("config_invalid", gap.reason, { cause });
}
