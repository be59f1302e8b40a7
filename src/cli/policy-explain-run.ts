// The core of `npm run policy:explain`: its arguments, and the decision for a token's claims with, for every rule, why
// it did or did not apply (and the allowing rule's GitHub requirements, on facts given offline). Pure; no I/O; no
// clock.
import { isBrokerError } from "../errors.ts";
import { parseClaims } from "../oidc/claims.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import { compilePolicy, DEFAULT_ISSUER_ID } from "../policy/compile.ts";
import type { Decision, GithubTokenDecision } from "../policy/decide.ts";
import { explain, formatExplanation } from "../policy/explain.ts";
import { evaluateOffline, type OfflineFacts } from "../policy/offline-facts.ts";
import { describeRequirements } from "../policy/requirements-describe.ts";
import type { PolicyDefinition } from "../policy/types.ts";
import { UNVERIFIED_TOKEN_NOTE } from "./explain-input.ts";
import { cliLines as lines, type CliResult, type IssuerSet } from "./policy-run.ts";

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
export interface ExplainInput {
  policy: PolicyDefinition;
  claims: unknown;
  /** The claims were decoded from a token without verifying it: the output says so first. */
  fromToken?: boolean;
  args: Pick<ExplainArgs, "role" | "issuer" | "durationSeconds" | "githubToken">;
  issuerSets?: IssuerSet[];
  /** GitHub facts (--facts); without them, requirements are listed as not evaluated offline. */
  facts?: OfflineFacts;
}

/** The issuer id: `--issuer`, else the ISSUERS entry whose `iss` matches the claims', else "github". */
function issuerIdOf(input: ExplainInput): string {
  const payload = input.claims;
  const iss =
    typeof payload === "object" && payload !== null && typeof (payload as Record<string, unknown>).iss === "string"
      ? (payload as Record<string, string>).iss
      : undefined;
  const configured = (input.issuerSets ?? []).flatMap((set) => set.issuers).find((issuer) => issuer.issuer === iss);
  return input.args.issuer ?? configured?.id ?? DEFAULT_ISSUER_ID;
}

/** The answer when the claims fail the issuer kind's schema: the broker would refuse the token before the policy. */
function claimsInvalid(error: unknown, note: string[], issuerId: string, kind: string): CliResult {
  if (!isBrokerError(error)) throw error;
  const issues = (error.cause as { issues?: Array<{ path: string; code: string }> } | undefined)?.issues ?? [];
  const detail = issues.map((issue) => `  ${issue.path || "(payload)"}: ${issue.code}`);
  return {
    stdout: lines([
      ...note,
      `DENY   claims_invalid (the token would be refused before the policy: 401 invalid_token)`,
      `issuer ${issuerId} (${kind})`,
      ...detail,
    ]),
    stderr: "",
    exitCode: 0,
  };
}

/** The allowing rule's requirements, in place in `text`: listed as not evaluated, or judged on the given facts. */
function addRequirements(
  text: string[],
  decision: Decision | GithubTokenDecision,
  claims: Readonly<Record<string, unknown>>,
  facts: OfflineFacts | undefined,
): void {
  if (!decision.allowed || decision.requirements === undefined) return;
  // The broker asks GitHub at request time; offline, only facts given with --facts can settle the requirements.
  if (facts === undefined) {
    text.splice(
      1,
      0,
      "       requires, not evaluated offline (give --facts <github-facts.json>):",
      ...describeRequirements(decision.requirements).map((line) => `         ${line}`),
    );
    return;
  }
  const verdict = evaluateOffline(decision.requirements, claims, facts);
  text[0] = verdict.met
    ? `${text[0]} (requirements met on the given facts)`
    : `DENY   ${verdict.reason} (rule ${decision.ruleId}; requirements on the given facts)`;
  text.splice(1, 0, ...verdict.facts.map((fact) => `       ${fact}`));
}

/**
 * `policy:explain`: the decision for these claims, and for every rule why it did or did not apply. The claims are
 * a decoded token payload (JSON); the issuer is `--issuer`, else the ISSUERS entry whose `iss` matches, else "github".
 * Claims go through the issuer kind's schema first, as in production. Exit 0 when explained (allow or deny).
 */ export function runPolicyExplain(input: ExplainInput): CliResult {
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy(input.policy);
  } catch (error) {
    return {
      stdout: "",
      stderr: `the policy does not compile: ${error instanceof Error ? error.message : String(error)}\n`,
      exitCode: 1,
    };
  }
  const issuerId = issuerIdOf(input);
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
    claims = parseClaims(issuer.kind, input.claims) as unknown as Readonly<Record<string, unknown>>;
  } catch (error) {
    return claimsInvalid(error, note, issuerId, issuer.kind);
  }
  const { githubToken } = input.args;
  const decisionInput =
    githubToken === undefined
      ? { issuerId, claims, role: input.args.role, durationSeconds: input.args.durationSeconds }
      : { issuerId, claims, githubToken };
  const explanation = explain(compiled, decisionInput);
  const text = formatExplanation(explanation, decisionInput);
  addRequirements(text, explanation.decision, claims, input.facts);
  return { stdout: lines([...note, ...text]), stderr: "", exitCode: 0 };
}
