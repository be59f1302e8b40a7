// `npm run preflight`, the broker's own verdict: the environment's settings (preflight-settings.ts) and then the policy
// through the Worker's start-up code (the compile against ISSUERS and STS_AUTH, the GitHub set-up check, the shadow
// candidate, the audience warning), so preflight and runtime cannot disagree. Pure; no I/O; no clock.
import { configWarnings, type Config } from "../config.ts";
import { SHARED_DEFAULT_AUDIENCE } from "../oidc/constants.ts";
import { githubSetupGaps } from "../github/setup.ts";
import { tokenAppGap } from "../github-tokens/setup.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../policy/compile.ts";
import type { LoadedPolicy } from "./policy-run.ts";
import { stringVar, type Problem } from "./preflight-checks.ts";
import { brokerConfig, localOnly, type SettingsInput } from "./preflight-settings.ts";

export interface BrokerCheckInput extends SettingsInput {
  /** The live policy; undefined when it could not be loaded (reported apart). */
  policy: LoadedPolicy | undefined;
  /** policies/candidate.ts, when the file exists. */
  candidate: LoadedPolicy | undefined;
}

export interface BrokerCheckResult {
  problems: Problem[];
  /** Secrets the configuration needs that could not be checked (no secret source). */
  unchecked: string[];
  /** Every issuer on a loopback URL: the sandbox, exempt from the production-only rules. */
  local: boolean;
  webIdentity: boolean;
}

/** The policy compiled as the Worker compiles it, or the problem it would refuse to start with. */
function compileAsWorker(loaded: LoadedPolicy, config: Config): { compiled: CompiledPolicy } | { problems: Problem[] } {
  try {
    return { compiled: compilePolicy(loaded.policy, { issuers: config.issuers, stsAuth: config.stsAuth }) };
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) throw error;
    if (error.code !== "external_id_unsupported")
      return {
        problems: [
          {
            code: error.code,
            subject: `${loaded.file} ${error.location}`,
            message: `${error.message} (npm run policy:check)`,
          },
        ],
      };
    const message = error.message.slice(error.location.length + 2);
    return {
      problems: externalIdRoles(loaded, config, error.location).map((location) => ({
        code: error.code,
        subject: `${loaded.file} ${location}`,
        message,
      })),
    };
  }
}

/** Every role with an externalId: the web-identity compile stops at the first; the sigv4 compile keeps them all. */
function externalIdRoles(loaded: LoadedPolicy, config: Config, first: string): string[] {
  try {
    const roles = [...compilePolicy(loaded.policy, { issuers: config.issuers }).roles].filter(
      ([, grant]) => grant.externalId !== undefined,
    );
    return roles.map(([name]) => `roles.${name}.externalId`);
  } catch {
    // A compile error past the roles (policy:check reports it): the first role is named.
    return [first];
  }
}

/** Rules with `require` against the GitHub App and the issuers' API URLs (src/github/setup.ts, the Worker's check). */
function githubProblems(
  input: BrokerCheckInput,
  file: string,
  compiled: CompiledPolicy,
  config: Config,
  unchecked: Set<string>,
): Problem[] {
  const gaps = githubSetupGaps(compiled, config);
  const rulesOf = (reason: string, issuer?: string) => [
    ...new Set(
      gaps
        .filter((gap) => gap.reason === reason && (issuer === undefined || gap.issuer === issuer))
        .map((gap) => gap.rule),
    ),
  ];
  const describe = (rules: string[]) =>
    `${rules.length === 1 ? "rule" : "rules"} ${rules.join(", ")} (${file}) ${rules.length === 1 ? "uses" : "use"} \`require\``;
  const problems: Problem[] = [];
  const appRules = rulesOf("github_app_missing");
  if (appRules.length > 0) {
    // No App at all: parseConfig refuses a half-configured one, so both the id and the key are absent (or unchecked).
    const fix = "set up the GitHub App (docs/github-facts.md), or drop `require` from the policy";
    const appId = stringVar(input.env, "GITHUB_APP_ID");
    if (appId === undefined || appId === "")
      problems.push({
        code: "github_app_missing",
        subject: "var GITHUB_APP_ID",
        message: `is ${appId === undefined ? "not set" : "empty"}, but ${describe(appRules)}: ${fix}`,
      });
    if (input.secrets === undefined) unchecked.add("GITHUB_APP_PRIVATE_KEY");
    else if (!input.secrets.has("GITHUB_APP_PRIVATE_KEY"))
      problems.push({
        code: "github_app_missing",
        subject: "secret GITHUB_APP_PRIVATE_KEY",
        message: `is not set, but ${describe(appRules)}: ${fix}`,
      });
  }
  const tokenGap = tokenAppGap(compiled, config);
  if (tokenGap !== undefined) {
    // The Worker serves AWS credentials without it and answers config_invalid to every grant request.
    const fix = "set up the token App (docs/github-tokens.md), or drop `githubTokens` from the policy's rules";
    const why = `rule ${tokenGap.rule} (${file}) grants GitHub tokens: without it every POST /v1/github-token answers config_invalid: ${fix}`;
    const appId = stringVar(input.env, "GITHUB_TOKEN_APP_ID");
    if (appId === undefined || appId === "")
      problems.push({
        code: "github_token_app_missing",
        subject: "var GITHUB_TOKEN_APP_ID",
        message: `is ${appId === undefined ? "not set" : "empty"}, but ${why}`,
      });
    if (input.secrets === undefined) unchecked.add("GITHUB_TOKEN_APP_PRIVATE_KEY");
    else if (!input.secrets.has("GITHUB_TOKEN_APP_PRIVATE_KEY"))
      problems.push({
        code: "github_token_app_missing",
        subject: "secret GITHUB_TOKEN_APP_PRIVATE_KEY",
        message: `is not set, but ${why}`,
      });
  }
  for (const issuer of new Set(gaps.flatMap((gap) => (gap.issuer === undefined ? [] : [gap.issuer])))) {
    problems.push({
      code: "github_api_url_missing",
      subject: "var ISSUERS",
      message: `issuer "${issuer}" has no api_url, but ${describe(rulesOf("github_api_url_missing", issuer))}: set its REST API base (docs/configuration.md)`,
    });
  }
  return problems;
}

/**
 * SHADOW_POLICY = "on" needs a candidate that compiles; the Worker would log policy_shadow_disabled and decide nothing.
 */
function shadowProblems(input: BrokerCheckInput, config: Config): Problem[] {
  if (config.shadowPolicy !== true) return [];
  if (input.candidate === undefined)
    return [
      {
        code: "candidate_policy_missing",
        subject: "var SHADOW_POLICY",
        message: 'is "on" but policies/candidate.ts does not exist: add a candidate, or set it to "off"',
      },
    ];
  const result = compileAsWorker(input.candidate, config);
  return "problems" in result
    ? result.problems.map((problem) => ({
        ...problem,
        code: "candidate_policy_invalid",
        message: `${problem.code}: ${problem.message}; the Worker would skip shadow mode`,
      }))
    : [];
}

/** Everything the Worker's own start-up code would refuse, or run without (shadow), for this environment. */
export function brokerProblems(input: BrokerCheckInput): BrokerCheckResult {
  const unchecked = new Set<string>();
  const { config, problems } = brokerConfig(input, unchecked);
  const local = localOnly(input.env, config);
  const webIdentity = (config?.stsAuth ?? stringVar(input.env, "STS_AUTH")) === "web-identity";
  if (config !== undefined) {
    const live = input.policy === undefined ? undefined : compileAsWorker(input.policy, config);
    if (live !== undefined && "problems" in live) problems.push(...live.problems);
    else if (live !== undefined && input.policy !== undefined)
      problems.push(...githubProblems(input, input.policy.file, live.compiled, config, unchecked));
    problems.push(...shadowProblems(input, config));
    // The Worker logs config_warning for it; before a production deploy it is a problem (docs/security.md, "Audience").
    for (const warning of configWarnings(config)) {
      problems.push({
        code: "audience_shared_default",
        subject: "var ISSUERS",
        message: `issuer "${warning.issuer}" accepts the shared default audience "${SHARED_DEFAULT_AUDIENCE}": choose one unique to this deployment (docs/deployment.md)`,
      });
    }
  }
  return { problems, unchecked: [...unchecked], local, webIdentity };
}
