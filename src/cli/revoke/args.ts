// `npm run revoke -- …` arguments: argv in, checked options out, or a UsageError saying what is wrong.
// Pure; no I/O; no clock.
import { isTrustedUrlString } from "../../http/trusted-url.ts";
import { parseCutoff } from "./deny-policy.ts";

export type RevokeMode = "print" | "apply" | "remove";

export interface RevokeArgs {
  repository: string | undefined;
  actor: string | undefined;
  /** Only these issuer ids (default: every issuer of the policy the deployment configures). */
  issuerIds: string[] | undefined;
  cutoffMs: number | undefined;
  mode: RevokeMode;
  /** wrangler.toml environment whose ISSUERS and STS_AUTH apply (default: the top level, production). */
  env: string | undefined;
  policyFile: string;
  /** With --apply/--remove: the one account this run changes. */
  account: string | undefined;
  /** More roles to deny on: roles sessions may have chained into. */
  extraRoles: string[];
  iamEndpoint: string | undefined;
  iamRegion: string | undefined;
}

export class UsageError extends Error {}

export const DEFAULT_POLICY_FILE = "policies/index.ts";

export const USAGE = `usage: npm run revoke -- --repository OWNER/NAME [--actor LOGIN] [options]
       npm run revoke -- --actor LOGIN [options]

Prints the IAM deny policy that revokes the sessions the broker already issued for a repository (GitLab: project)
or an actor (GitLab: user), the roles the policy can grant it, and the IAM permissions needed; --apply attaches it to
those roles, --remove lifts it. Set the kill switch first: it stops new sessions (docs/operations.md).

  --repository OWNER/NAME  the repository (GitHub) or project path (GitLab)
  --actor LOGIN            the actor (GitHub) or user login (GitLab); with --repository: that actor's sessions of it
  --issuer ID              only this issuer id of ISSUERS (repeatable; default every configured issuer)
  --cutoff ISO             deny sessions issued before this time (default: now + the kill switch's propagation time)
  --apply                  attach the policy (IAM PutRolePolicy) to every role; rerunning replaces it
  --remove                 delete it again (IAM DeleteRolePolicy)
  --account ID             the account to change (needed when the roles span accounts: one run per account)
  --role ARN               also this role, e.g. one the sessions chain into (repeatable)
  --env NAME               the wrangler.toml environment whose ISSUERS and STS_AUTH apply (default: top level)
  --policy FILE            the policy (default ${DEFAULT_POLICY_FILE})
  --iam-endpoint URL       IAM's endpoint (default per partition: https://iam.amazonaws.com), e.g. the sandbox's
  --iam-region REGION      its SigV4 signing region (default us-east-1 with --iam-endpoint)

AWS credentials for --apply/--remove: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the
environment; from a profile: eval "$(aws configure export-credentials --format env)".`;

const FLAGS_WITH_VALUE = new Set([
  "--repository",
  "--actor",
  "--issuer",
  "--cutoff",
  "--account",
  "--role",
  "--env",
  "--policy",
  "--iam-endpoint",
  "--iam-region",
]);
/** A repository or project path: segments separated by single slashes, no white space. */
const REPOSITORY = /^[^/\s]+(\/[^/\s]+)+$/;
/** Most characters of a name the broker can tag (STS's tag value limit). */
const MAX_NAME_CHARS = 256;

/** argv after `--` -> arguments, "help", or a UsageError. */
export function parseRevokeArgs(argv: readonly string[]): RevokeArgs | "help" {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (flag === "--help" || flag === "-h") return "help";
    if (flag === "--apply" || flag === "--remove") {
      switches.add(flag);
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(flag))
      throw new UsageError(
        flag.startsWith("-") ? `unknown option ${flag}` : `unexpected argument ${JSON.stringify(arg)}`,
      );
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    values.set(flag, [...(values.get(flag) ?? []), value]);
  }
  const single = (flag: string): string | undefined => {
    const given = values.get(flag);
    if (given !== undefined && given.length > 1) throw new UsageError(`${flag} given twice`);
    return given?.[0];
  };

  const repository = single("--repository");
  const actor = single("--actor");
  if (repository === undefined && actor === undefined)
    throw new UsageError("say whose sessions to revoke: --repository OWNER/NAME, --actor LOGIN, or both");
  if (repository !== undefined && (!REPOSITORY.test(repository) || repository.length > MAX_NAME_CHARS))
    throw new UsageError("--repository must be OWNER/NAME (GitLab: GROUP/…/PROJECT)");
  if (actor !== undefined && (/[\s/]/.test(actor) || actor.length > MAX_NAME_CHARS))
    throw new UsageError("--actor must be one login");
  if (switches.has("--apply") && switches.has("--remove"))
    throw new UsageError("--apply and --remove exclude each other");
  const cutoffText = single("--cutoff");
  const cutoffMs = cutoffText === undefined ? undefined : parseCutoff(cutoffText);
  if (cutoffText !== undefined && cutoffMs === undefined)
    throw new UsageError("--cutoff must be an ISO 8601 time with a zone, e.g. 2026-11-25T12:00:00Z");
  if (cutoffText !== undefined && switches.has("--remove"))
    throw new UsageError("--cutoff has no meaning with --remove");
  const account = single("--account");
  if (account !== undefined && !/^\d{12}$/.test(account))
    throw new UsageError("--account must be a 12-digit AWS account id");
  const iamEndpoint = single("--iam-endpoint");
  // The session token travels in a header: never to plain http beyond this machine.
  if (iamEndpoint !== undefined && !isTrustedUrlString(iamEndpoint, { loopback: true }))
    throw new UsageError("--iam-endpoint must be an https URL (http only on loopback) without credentials");
  const iamRegion = single("--iam-region");
  if (iamRegion !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(iamRegion))
    throw new UsageError("--iam-region must be an AWS region name");
  return {
    repository,
    actor,
    issuerIds: values.get("--issuer"),
    cutoffMs,
    mode: switches.has("--apply") ? "apply" : switches.has("--remove") ? "remove" : "print",
    env: single("--env"),
    policyFile: single("--policy") ?? DEFAULT_POLICY_FILE,
    account,
    extraRoles: values.get("--role") ?? [],
    iamEndpoint,
    iamRegion,
  };
}
