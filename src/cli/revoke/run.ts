// The core of `npm run revoke`: arguments, the policy and wrangler.toml's issuers in; the plan printed; with --apply or
// --remove, IAM changed role by role through the injected fetch. Platform-neutral (no node:*): the Node entry
// (../revoke.ts) reads files and the environment. Exit codes: 0 done, 1 a role failed or nothing to do, 2 usage.
import { identityPrefix, sourceIdentity } from "../../aws/session-names.ts";
import { REVOKE_CUTOFF_DELAY_MS } from "./constants.ts";
import type { Clock, FetchFn, Sleep } from "../../deps.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../../policy/compile.ts";
import type { PolicyDefinition } from "../../policy/types.ts";
import type { IssuerSet } from "../policy-run.ts";
import { parseRevokeArgs, UsageError, USAGE, type RevokeArgs } from "./args.ts";
import { buildDenyPolicy, UntaggableSubjectError, type DenyPolicy } from "./deny-policy.ts";
import { createIamClient, type AwsCredentials } from "./iam-client.ts";
import { accountsOf, renderOutcomes, renderPlan, renderPrintOnly, subjectLabel, type RevokePlan } from "./render.ts";
import { attachToRole, removeFromRole, type RoleOutcome } from "./role-changes.ts";
import { findTargets, type RevokeTargets, type RoleTarget } from "./targets.ts";

export interface RevokeDeps {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  /** The policy module's default export (the Node entry imports the file). */
  loadPolicy(file: string): Promise<PolicyDefinition>;
  /** ISSUERS and STS_AUTH per wrangler.toml environment (src/cli/policy-files.ts readIssuerSets). */
  issuerSets: { sets: readonly IssuerSet[]; problems: readonly string[] };
}

export interface RevokeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** IAM's endpoint and signing region per partition (IAM is global within one). */
const IAM_ENDPOINTS: Readonly<Record<string, { endpoint: string; region: string }>> = {
  aws: { endpoint: "https://iam.amazonaws.com", region: "us-east-1" },
  "aws-us-gov": { endpoint: "https://iam.us-gov.amazonaws.com", region: "us-gov-west-1" },
  "aws-cn": { endpoint: "https://iam.cn-north-1.amazonaws.com.cn", region: "cn-north-1" },
};

const CREDENTIALS_HINT =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) for the account; from a profile: eval "$(aws configure export-credentials --format env)"';

class Stop extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

const text = (lines: readonly string[]) => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);

function compileFor(policy: PolicyDefinition, set: IssuerSet, file: string): CompiledPolicy {
  try {
    return compilePolicy(policy, {
      issuers: set.issuers,
      ...(set.stsAuth === undefined ? {} : { stsAuth: set.stsAuth }),
    });
  } catch (error) {
    if (error instanceof PolicyCompileError)
      throw new Stop(
        2,
        `${file} does not compile against ${set.name} of wrangler.toml (${error.code} at ${error.location}): run npm run policy:check`,
      );
    throw error;
  }
}

async function plan(args: RevokeArgs, deps: RevokeDeps): Promise<RevokePlan> {
  let definition: PolicyDefinition;
  try {
    definition = await deps.loadPolicy(args.policyFile);
  } catch (error) {
    throw new Stop(
      2,
      `cannot load the policy ${args.policyFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const envName = args.env === undefined ? "top level" : `env.${args.env}`;
  const set = deps.issuerSets.sets.find((entry) => entry.name === envName);
  if (set === undefined)
    throw new Stop(
      2,
      `wrangler.toml has no ISSUERS for ${envName}${deps.issuerSets.problems.length > 0 ? ` (${deps.issuerSets.problems.join("; ")})` : ""}`,
    );
  const policy = compileFor(definition, set, args.policyFile);
  const unknown = (args.issuerIds ?? []).filter((id) => !policy.issuers.has(id));
  if (unknown.length > 0)
    throw new Stop(
      2,
      `--issuer ${unknown.join(", ")}: not an issuer of ${args.policyFile} (${[...policy.issuers.keys()].join(", ")})`,
    );
  let targets: RevokeTargets;
  try {
    targets = findTargets(
      policy,
      args,
      set.issuers.map(({ id, kind, issuer }) => ({ id, kind, url: issuer })),
      { ...(args.issuerIds === undefined ? {} : { issuerIds: args.issuerIds }), extraRoleArns: args.extraRoles },
    );
  } catch (error) {
    throw new Stop(2, `--role ${error instanceof Error ? error.message : String(error)}`);
  }
  const nowMs = deps.now();
  const cutoffMs = args.cutoffMs ?? nowMs + REVOKE_CUTOFF_DELAY_MS;
  const policies = new Map<string, DenyPolicy>();
  const sourceIdentities: string[] = [];
  for (const issuer of targets.issuers) {
    policies.set(
      issuer.id,
      await buildDenyPolicy({ kind: issuer.kind, issuerUrl: issuer.url, subject: args, cutoffMs }),
    );
    // As src/aws/session-names.ts names the subject's sessions: what CloudTrail searches by.
    const prefix = identityPrefix({ id: issuer.id, kind: issuer.kind, issuer: issuer.url });
    sourceIdentities.push(
      args.actor === undefined
        ? `${prefix}<${issuer.kind === "gitlab" ? "user" : "actor"}>`
        : await sourceIdentity(issuer.kind, prefix, args.actor).catch(
            () => `${prefix}<hashed ${issuer.kind === "gitlab" ? "user" : "actor"}>`,
          ),
    );
  }
  return {
    args,
    config: `wrangler.toml (${envName})`,
    stsAuth: set.stsAuth ?? "sigv4",
    targets,
    policies,
    sourceIdentities: [...new Set(sourceIdentities)],
    cutoffMs,
    nowMs,
  };
}

function credentialsFrom(env: RevokeDeps["env"]): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim() ?? "";
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim() ?? "";
  if (accessKeyId === "" || secretAccessKey === "") {
    const profile =
      env.AWS_PROFILE === undefined ? "" : ` (AWS_PROFILE=${env.AWS_PROFILE} is not read: export its credentials)`;
    throw new Stop(2, `no AWS credentials${profile}: ${CREDENTIALS_HINT}`);
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() ?? "";
  return { accessKeyId, secretAccessKey, ...(sessionToken === "" ? {} : { sessionToken }) };
}

/** The one account this run changes: --account, or the only one; roles of other accounts wait for their own run. */
function chooseAccount(args: RevokeArgs, roles: readonly RoleTarget[]): string {
  const accounts = accountsOf(roles);
  if (args.account !== undefined) {
    if (!accounts.includes(args.account))
      throw new Stop(2, `--account ${args.account}: no role to change is in it (accounts ${accounts.join(", ")})`);
    return args.account;
  }
  if (accounts.length > 1) {
    throw new Stop(
      2,
      `the roles are in ${accounts.length} accounts (${accounts.join(", ")}), and IAM changes one account per set of credentials: run once per account with --account ID`,
    );
  }
  return accounts[0] as string;
}

async function change(
  args: RevokeArgs,
  revoke: RevokePlan,
  deps: RevokeDeps,
): Promise<{ lines: string[]; failed: boolean }> {
  const account = chooseAccount(args, revoke.targets.roles);
  const mine = revoke.targets.roles.filter((role) => role.account === account);
  const partition = mine[0]?.partition ?? "aws";
  const known = IAM_ENDPOINTS[partition];
  if (args.iamEndpoint === undefined && known === undefined)
    throw new Stop(2, `partition ${partition}: give its IAM endpoint with --iam-endpoint and --iam-region`);
  const endpoint = args.iamEndpoint ?? (known?.endpoint as string);
  const region = args.iamRegion ?? (args.iamEndpoint === undefined ? (known?.region as string) : "us-east-1");
  const iam = createIamClient({
    endpoint,
    region,
    credentials: credentialsFrom(deps.env),
    fetch: deps.fetch,
    sleep: deps.sleep,
    now: deps.now,
  });
  const outcomes: RoleOutcome[] = [];
  for (const role of mine) {
    const policies = role.issuerIds
      .map((id) => revoke.policies.get(id))
      .filter((policy): policy is DenyPolicy => policy !== undefined);
    outcomes.push(
      args.mode === "remove"
        ? await removeFromRole(
            iam,
            role,
            policies.map((policy) => policy.name),
          )
        : await attachToRole(iam, role, policies, revoke.cutoffMs),
    );
  }
  const others = revoke.targets.roles.filter((role) => role.account !== account);
  return {
    lines: renderOutcomes(args, outcomes, others, `${endpoint} (account ${account})`, deps.now()),
    failed: outcomes.some((outcome) => !outcome.ok),
  };
}

export async function runRevoke(deps: RevokeDeps): Promise<RevokeResult> {
  let args: RevokeArgs | "help";
  try {
    args = parseRevokeArgs(deps.argv);
  } catch (error) {
    if (error instanceof UsageError)
      return { exitCode: 2, stdout: "", stderr: `revoke: ${error.message}\n\n${USAGE}\n` };
    throw error;
  }
  if (args === "help") return { exitCode: 0, stdout: `${USAGE}\n`, stderr: "" };
  try {
    const revoke = await plan(args, deps);
    if (revoke.targets.issuers.length === 0 || revoke.targets.roles.length === 0) {
      const skipped = revoke.targets.skipped.map(
        (entry) =>
          `issuer ${entry.id}: ${entry.reason === "not_configured" ? `not configured in ${revoke.config}` : "left out by --issuer"} (rules ${entry.ruleIds.join(", ")})`,
      );
      const lines = [
        `No rule of ${args.policyFile} can grant ${subjectLabel(args)} on a configured issuer: the broker cannot have issued it a session.`,
        ...skipped,
      ];
      lines.push(
        "If a rule that granted it was removed or changed recently, name its roles with --role ARN and --issuer ID.",
      );
      return { exitCode: args.mode === "print" ? 0 : 1, stdout: text(lines), stderr: "" };
    }
    const lines = renderPlan(revoke);
    if (args.mode === "print") return { exitCode: 0, stdout: text([...lines, ...renderPrintOnly(revoke)]), stderr: "" };
    const { lines: outcome, failed } = await change(args, revoke, deps);
    return { exitCode: failed ? 1 : 0, stdout: text([...lines, ...outcome]), stderr: "" };
  } catch (error) {
    if (error instanceof Stop) return { exitCode: error.exitCode, stdout: "", stderr: `revoke: ${error.message}\n` };
    if (error instanceof UntaggableSubjectError)
      return { exitCode: args.mode === "print" ? 0 : 1, stdout: `${error.message}: nothing to revoke.\n`, stderr: "" };
    throw error;
  }
}
