// The cores of `npm run policy:check` and `policy:test` (policy:explain's is policy-explain-run.ts), and what the
// three share: loaded policies, wrangler environments' ISSUERS, text and an exit code out. Pure; no I/O; no clock.
// Platform-neutral (no node:*), so the Workers test pool covers it.
import { IssuerListSchema, type IssuerKind } from "../oidc/issuers.ts";
import { checkPolicy, type Finding } from "../policy/check.ts";
import { compilePolicy, PolicyCompileError } from "../policy/compile.ts";
import { runFixtures, type FixtureResult, type FixtureSuite } from "../policy/fixtures.ts";
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
/** Output lines as text: one per line, each ending in a newline (none at all for no lines). */
export const cliLines = (list: string[]) => (list.length === 0 ? "" : `${list.join("\n")}\n`);
const lines = cliLines;

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
    let results: FixtureResult[];
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
