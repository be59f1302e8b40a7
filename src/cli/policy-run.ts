// The cores of `npm run policy:check`, `policy:test` and `policy:explain`: loaded policies and arguments in, text and
// an exit code out. Pure; no I/O; no clock. Platform-neutral (no node:*), so the Workers test pool covers it.
import { isBrokerError } from "../errors.ts";
import { parseClaims } from "../oidc/claims.ts";
import { IssuerListSchema, type IssuerKind } from "../oidc/issuers.ts";
import { checkPolicy, type Finding } from "../policy/check.ts";
import { compilePolicy, DEFAULT_ISSUER_ID, PolicyCompileError } from "../policy/compile.ts";
import { explain, formatExplanation } from "../policy/explain.ts";
import { describeRequirements, evaluateOffline, type OfflineFacts } from "../policy/offline-facts.ts";
import { UNVERIFIED_TOKEN_NOTE } from "./explain-input.ts";
import { runFixtures, type FixtureSuite } from "../policy/fixtures.ts";
import type { PolicyDefinition } from "../policy/types.ts";

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface LoadedPolicy {
  /** Path as shown to the operator, e.g. `policies/index.ts`. */
  file: string;
  policy: PolicyDefinition;
}

/** The ISSUERS of one wrangler environment: what the Worker will cross-check the policy against at start-up. */
export interface IssuerSet {
  name: string;
  issuers: Array<{ id: string; kind: IssuerKind; issuer: string }>;
  /** That environment's STS_AUTH var (default sigv4): web-identity refuses roles with an externalId. */
  stsAuth?: "sigv4" | "web-identity";
}

const lines = (list: string[]) => (list.length === 0 ? "" : `${list.join("\n")}\n`);

/**
 * The `ISSUERS = '...'` values of a wrangler.toml, per environment (top level and `[env.<name>.vars]`). A small line
 * reader, not a TOML parser: it reads the single-quoted one-line form the shipped wrangler.toml uses.
 */
export function issuerSetsFromWranglerToml(text: string): { sets: IssuerSet[]; problems: string[] } {
  const sets: IssuerSet[] = [];
  const problems: string[] = [];
  const stsAuthOf = new Map<string, "sigv4" | "web-identity">();
  let env = "top level";
  for (const line of text.split("\n")) {
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (section !== null) {
      const name = /^env\.([^.]+)/.exec(section[1] as string);
      env = name === null ? "top level" : `env.${name[1]}`;
      continue;
    }
    const mode = /^\s*STS_AUTH\s*=\s*["']([^"']*)["']\s*(#.*)?$/.exec(line);
    if (mode !== null) {
      if (mode[1] === "sigv4" || mode[1] === "web-identity") stsAuthOf.set(env, mode[1]);
      else problems.push(`wrangler.toml (${env}): STS_AUTH must be "sigv4" or "web-identity"`);
      continue;
    }
    const value = /^\s*ISSUERS\s*=\s*'(.*)'\s*$/.exec(line);
    if (value === null) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value[1] as string);
    } catch {
      problems.push(`wrangler.toml (${env}): ISSUERS is not valid JSON`);
      continue;
    }
    const result = IssuerListSchema.safeParse(parsed);
    if (!result.success)
      problems.push(
        `wrangler.toml (${env}): ISSUERS is invalid (${result.error.issues.map((issue) => issue.path.join(".")).join(", ")})`,
      );
    else sets.push({ name: env, issuers: result.data.map(({ id, kind, issuer }) => ({ id, kind, issuer })) });
  }
  // Vars are not inherited by named environments (wrangler), so an environment's mode is its own or the default.
  return { sets: sets.map((set) => ({ ...set, stsAuth: stsAuthOf.get(set.name) ?? "sigv4" })), problems };
}

function formatFinding(file: string, finding: Finding): string {
  return `${file}: ${finding.severity === "error" ? "error" : "warning"} ${finding.code} at ${finding.location}: ${finding.message}`;
}

/**
 * `policy:check`: compile and lint every policy, and compile it against every wrangler environment's ISSUERS.
 * Exit 1 on any error finding; warnings are printed and do not fail.
 */
export function runPolicyCheck(
  policies: LoadedPolicy[],
  issuerSets: IssuerSet[] = [],
  preamble: string[] = [],
): CliResult {
  const out: string[] = [...preamble];
  let errors = 0;
  let warnings = 0;
  for (const { file, policy } of policies) {
    const { compiled, findings } = checkPolicy(policy);
    for (const set of compiled === undefined ? [] : issuerSets) {
      try {
        compilePolicy(policy, { issuers: set.issuers, ...(set.stsAuth === undefined ? {} : { stsAuth: set.stsAuth }) });
      } catch (error) {
        if (!(error instanceof PolicyCompileError)) throw error;
        const against =
          error.code === "external_id_unsupported"
            ? `STS_AUTH = "web-identity" of wrangler.toml ${set.name}`
            : `ISSUERS of wrangler.toml ${set.name}`;
        findings.push({
          severity: "error",
          code: error.code,
          location: error.location,
          message: `against ${against}: ${error.message}`,
        });
      }
    }
    for (const finding of findings) out.push(formatFinding(file, finding));
    const fileErrors = findings.filter((finding) => finding.severity === "error").length;
    errors += fileErrors;
    warnings += findings.length - fileErrors;
    if (compiled !== undefined && fileErrors === 0) {
      const grants =
        compiled.githubTokens.size === 0
          ? ""
          : `, ${compiled.githubTokens.size} GitHub token grant${compiled.githubTokens.size === 1 ? "" : "s"}`;
      out.push(
        `${file}: ok (${compiled.rules.length} rules, ${compiled.roles.size} roles${grants}, issuers ${[...compiled.issuers.keys()].join(", ")})`,
      );
    }
  }
  out.push(
    `policy:check: ${policies.length} ${policies.length === 1 ? "policy" : "policies"}, ${errors} error(s), ${warnings} warning(s)`,
  );
  return { stdout: lines(out), stderr: "", exitCode: errors > 0 ? 1 : 0 };
}

/**
 * `policy:test`: run every fixture suite; print failures (every case with `verbose`) and a summary. Exit 1 when any
 * case fails, a suite's policy does not compile, or there is nothing to run.
 */
export function runPolicyTest(
  suites: Array<{ file: string; suite: FixtureSuite }>,
  options: { verbose?: boolean } = {},
): CliResult {
  const out: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const { file, suite } of suites) {
    let results;
    try {
      results = runFixtures(suite);
    } catch (error) {
      failed++;
      out.push(
        `${file}`,
        `  FAIL  the policy does not compile: ${error instanceof Error ? error.message : String(error)}`,
      );
      continue;
    }
    const bad = results.filter((result) => !result.pass).length;
    out.push(`${file}: ${results.length - bad}/${results.length} passed`);
    for (const result of results) {
      if (result.pass) {
        passed++;
        if (options.verbose === true) out.push(`  ok    ${result.name}`);
      } else {
        failed++;
        out.push(
          `  FAIL  ${result.name}`,
          `          expected ${result.expected}`,
          `          got      ${result.actual}`,
        );
      }
    }
  }
  out.push(`policy:test: ${passed} passed, ${failed} failed`);
  return { stdout: lines(out), stderr: "", exitCode: failed > 0 || passed === 0 ? 1 : 0 };
}

export interface ExplainArgs {
  claimsFile: string;
  role: string | undefined;
  /** A GitHub token grant asked for by name (`POST /v1/github-token`) instead of a role. */
  githubToken?: string | undefined;
  issuer: string | undefined;
  durationSeconds: number | undefined;
  policyFile: string;
  /** JSON GitHub facts (src/policy/offline-facts.ts) to judge the allowing rule's requirements on. */
  factsFile?: string | undefined;
}

export const EXPLAIN_USAGE =
  "usage: npm run policy:explain -- <claims.json | token file | -> [--role <alias> | --github-token <grant>] [--issuer <id>] [--duration <seconds>] [--policy <file>] [--facts <github-facts.json>]";

/** Parses policy:explain's arguments; a string is a usage error to print. */
export function parseExplainArgs(argv: string[], defaultPolicyFile = "policies/index.ts"): ExplainArgs | string {
  const args: ExplainArgs = {
    claimsFile: "",
    role: undefined,
    issuer: undefined,
    durationSeconds: undefined,
    policyFile: defaultPolicyFile,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--role") args.role = value();
    else if (flag === "--github-token") args.githubToken = value() ?? "";
    else if (flag === "--issuer") args.issuer = value();
    else if (flag === "--policy") args.policyFile = value() ?? "";
    else if (flag === "--facts") args.factsFile = value() ?? "";
    else if (flag === "--duration") {
      const text = value();
      args.durationSeconds = Number(text);
      if (text === undefined || !Number.isInteger(args.durationSeconds))
        return `--duration needs whole seconds\n${EXPLAIN_USAGE}`;
    } else if (flag.startsWith("--")) return `unknown option ${flag}\n${EXPLAIN_USAGE}`;
    else positional.push(arg);
  }
  if (positional.length !== 1) return EXPLAIN_USAGE;
  if (args.role === undefined && argv.includes("--role")) return `--role needs an alias\n${EXPLAIN_USAGE}`;
  if (args.githubToken === "") return `--github-token needs a grant name\n${EXPLAIN_USAGE}`;
  if (args.githubToken !== undefined && (args.role !== undefined || args.durationSeconds !== undefined)) {
    return `--github-token asks for a GitHub token: it takes no --role and no --duration\n${EXPLAIN_USAGE}`;
  }
  args.claimsFile = positional[0] as string;
  return args;
}

/**
 * `policy:explain`: the decision for these claims, and for every rule why it did or did not apply. The claims are
 * a decoded token payload (JSON); the issuer is `--issuer`, else the ISSUERS entry whose `iss` matches, else "github".
 * Claims go through the issuer kind's schema first, as in production. Exit 0 when explained (allow or deny).
 */
export function runPolicyExplain(input: {
  policy: PolicyDefinition;
  claims: unknown;
  /** The claims were decoded from a token without verifying it: the output says so first. */
  fromToken?: boolean;
  args: Pick<ExplainArgs, "role" | "issuer" | "durationSeconds" | "githubToken">;
  issuerSets?: IssuerSet[];
  /** GitHub facts (--facts); without them, requirements are listed as not evaluated offline. */
  facts?: OfflineFacts;
}): CliResult {
  let compiled;
  try {
    compiled = compilePolicy(input.policy);
  } catch (error) {
    return {
      stdout: "",
      stderr: `the policy does not compile: ${error instanceof Error ? error.message : String(error)}\n`,
      exitCode: 1,
    };
  }
  const payload = input.claims;
  const iss =
    typeof payload === "object" && payload !== null && typeof (payload as Record<string, unknown>).iss === "string"
      ? (payload as Record<string, string>).iss
      : undefined;
  const configured = (input.issuerSets ?? []).flatMap((set) => set.issuers).find((issuer) => issuer.issuer === iss);
  const issuerId = input.args.issuer ?? configured?.id ?? DEFAULT_ISSUER_ID;
  const issuer = compiled.issuers.get(issuerId);
  if (issuer === undefined) {
    return {
      stdout: "",
      stderr: `issuer "${issuerId}" is not in the policy's issuers (${[...compiled.issuers.keys()].join(", ")})\n`,
      exitCode: 2,
    };
  }
  const note = input.fromToken === true ? [UNVERIFIED_TOKEN_NOTE] : [];
  let claims: Readonly<Record<string, unknown>>;
  try {
    claims = parseClaims(issuer.kind, payload) as unknown as Readonly<Record<string, unknown>>;
  } catch (error) {
    if (!isBrokerError(error)) throw error;
    const issues = (error.cause as { issues?: Array<{ path: string; code: string }> } | undefined)?.issues ?? [];
    const detail = issues.map((issue) => `  ${issue.path || "(payload)"}: ${issue.code}`);
    return {
      stdout: lines([
        ...note,
        `DENY   claims_invalid (the token would be refused before the policy: 401 invalid_token)`,
        `issuer ${issuerId} (${issuer.kind})`,
        ...detail,
      ]),
      stderr: "",
      exitCode: 0,
    };
  }
  const { githubToken } = input.args;
  const decisionInput =
    githubToken === undefined
      ? { issuerId, claims, role: input.args.role, durationSeconds: input.args.durationSeconds }
      : { issuerId, claims, githubToken };
  const explanation = explain(compiled, decisionInput);
  const text = formatExplanation(explanation, decisionInput);
  const { decision } = explanation;
  if (decision.allowed && decision.requirements !== undefined) {
    // The broker asks GitHub at request time; offline, only facts given with --facts can settle the requirements.
    if (input.facts === undefined) {
      text.splice(
        1,
        0,
        "       requires, not evaluated offline (give --facts <github-facts.json>):",
        ...describeRequirements(decision.requirements).map((line) => `         ${line}`),
      );
    } else {
      const verdict = evaluateOffline(decision.requirements, claims, input.facts);
      text[0] = verdict.met
        ? `${text[0]} (requirements met on the given facts)`
        : `DENY   ${verdict.reason} (rule ${decision.ruleId}; requirements on the given facts)`;
      text.splice(1, 0, ...verdict.facts.map((fact) => `       ${fact}`));
    }
  }
  return { stdout: lines([...note, ...text]), stderr: "", exitCode: 0 };
}
