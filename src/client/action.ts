// The GitHub Action's decisions as values: which inputs, which masks, what goes to GITHUB_ENV / GITHUB_OUTPUT /
// GITHUB_STATE
// (AWS credentials, a GitHub token), and what the post step writes. Pure; no I/O; the delimiter arrives as a string.
// action-main.ts and action-post.ts do the I/O.
import { credentialVariables, maskedAccessKeyId, type Credentials } from "./credentials.ts";
import { ClientError } from "./errors.ts";
import { brokerEndpoint, credentialsEndpoint } from "./broker-endpoint.ts";
import { credentialMasks, fileCommandEntries, maskCommand } from "./github-commands.ts";
import { describeGithubToken, type GithubToken } from "./github-token.ts";
import {
  aliasedValue,
  parseAudience,
  parseDuration,
  parseGrantName,
  parseRegion,
  parseRole,
  requireValue,
} from "./inputs.ts";

export type OutputMode = "env" | "outputs";

export interface ActionInputs {
  /** POST /v1/credentials. */
  endpoint: URL;
  audience: string;
  /** AWS credentials asked for: no GitHub token named, or an AWS input given beside one. */
  aws: boolean;
  /** A GitHub token grant to mint (`github-token-name`), and POST /v1/github-token. */
  githubTokenName: string | undefined;
  githubTokenEndpoint: URL;
  role: string | undefined;
  durationSeconds: number | undefined;
  outputMode: OutputMode;
  region: string | undefined;
}

/**
 * The environment variable the runner sets for an input: INPUT_ + upper-cased name, spaces to '_', hyphens kept
 * (@actions/core getInput).
 */
export function inputVariable(name: string): string {
  return `INPUT_${name.replaceAll(" ", "_").toUpperCase()}`;
}

/**
 * Inputs that ask for AWS credentials beside a GitHub token (without a GitHub token, AWS credentials are always asked
 * for).
 */
const AWS_INPUTS = ["role", "duration", "role-duration-seconds", "region", "aws-region"];

/** The Action's inputs (action.yml), read through `getEnv`. */
export function parseActionInputs(getEnv: (name: string) => string | undefined): ActionInputs {
  const input = (name: string) => getEnv(inputVariable(name));
  const mode = input("output-mode")?.trim() || "env";
  if (mode !== "env" && mode !== "outputs")
    throw new ClientError("usage", "The output-mode input must be `env` or `outputs`.");
  const brokerUrl = requireValue(input("broker-url"), "The broker-url input");
  const githubTokenName = input("github-token-name")?.trim()
    ? parseGrantName(input("github-token-name"), "The github-token-name input")
    : undefined;
  const awsInputs = AWS_INPUTS.some((name) => (input(name)?.trim() ?? "") !== "");
  return {
    endpoint: credentialsEndpoint(brokerUrl),
    audience: parseAudience(input("audience"), "The audience input"),
    aws: githubTokenName === undefined || awsInputs,
    githubTokenName,
    githubTokenEndpoint: brokerEndpoint(brokerUrl, "/v1/github-token"),
    role: parseRole(input("role"), "The role input"),
    durationSeconds: parseDuration(
      aliasedValue(
        input("duration"),
        "The duration input",
        input("role-duration-seconds"),
        "the role-duration-seconds input",
      ),
      "The duration input",
    ),
    outputMode: mode,
    region: parseRegion(
      aliasedValue(input("region"), "The region input", input("aws-region"), "the aws-region input"),
      "The region input",
    ),
  };
}

/** State key the main step leaves for the post step (the runner hands it back as STATE_exported). */
export const EXPORTED_STATE = "exported";
/** The only variables the post step will ever clear, whatever the state says. */
const CLEARABLE = new Set([
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
]);

export interface MainPlan {
  /** ::add-mask:: lines for the access key id, the secret key and the session token: printed before any other line. */
  masks: string[];
  /** Appended to GITHUB_ENV ("" in outputs mode). */
  env: string;
  /** Appended to GITHUB_OUTPUT. */
  output: string;
  /** Appended to GITHUB_STATE: which variables the post step clears. */
  state: string;
  /** One line for the log: nothing secret, and the access key id masked (it names the account). */
  summary: string;
}

/**
 * The `credential_process` line that runs this Action's bundled CLI with the same inputs: a profile with it renews
 * credentials in long jobs. Paths double-quoted, as botocore splits the line with shlex (POSIX) and Windows runners
 * need "".
 */
export function credentialProcessCommand(nodePath: string, cliPath: string, inputs: ActionInputs): string {
  for (const path of [nodePath, cliPath])
    if (path.includes('"')) throw new ClientError("output_failed", "A path contains a double quote.");
  const args = [
    `"${nodePath}"`,
    `"${cliPath}"`,
    "credential-process",
    "--broker-url",
    inputs.endpoint.href,
    "--github-actions",
    "--audience",
    inputs.audience,
  ];
  if (inputs.role !== undefined) args.push("--role", inputs.role);
  if (inputs.durationSeconds !== undefined) args.push("--duration", String(inputs.durationSeconds));
  return args.join(" ");
}

export function planMain(
  credentials: Credentials,
  inputs: ActionInputs,
  requestId: string | undefined,
  credentialProcess: string,
  delimiter: string,
): MainPlan {
  const masks = credentialMasks(credentials);
  const role = inputs.role === undefined ? "the policy's role" : `role ${inputs.role}`;
  const about = `Credentials for ${role}: AccessKeyId ${maskedAccessKeyId(credentials.accessKeyId)}, expire ${credentials.expiration}${requestId === undefined ? "" : `, request id ${requestId}`}.`;
  if (inputs.outputMode === "env") {
    const variables = credentialVariables(credentials, inputs.region);
    const names = variables.map(([name]) => name);
    return {
      masks,
      env: fileCommandEntries(variables, delimiter),
      output: fileCommandEntries(
        [
          ["aws-expiration", credentials.expiration],
          ["credential-process", credentialProcess],
        ],
        delimiter,
      ),
      state: fileCommandEntries([[EXPORTED_STATE, names.join(",")]], delimiter),
      summary: `${about} Exported ${names.join(", ")} to the job's later steps; the post step empties them.`,
    };
  }
  const outputs: Array<[string, string]> = [
    ["aws-access-key-id", credentials.accessKeyId],
    ["aws-secret-access-key", credentials.secretAccessKey],
    ["aws-session-token", credentials.sessionToken],
    ["aws-expiration", credentials.expiration],
  ];
  if (inputs.region !== undefined) outputs.push(["aws-region", inputs.region]);
  outputs.push(["credential-process", credentialProcess]);
  return {
    masks,
    env: "",
    output: fileCommandEntries(outputs, delimiter),
    state: fileCommandEntries([[EXPORTED_STATE, ""]], delimiter),
    summary: `${about} Set as step outputs ${outputs.map(([name]) => name).join(", ")}.`,
  };
}

/**
 * The `git config credential.<url>.helper` value that runs this Action's bundled CLI as a git credential helper for the
 * same grant: `!` makes git run it with the shell (gitcredentials(7)), and git appends get/store/erase.
 */
export function gitCredentialHelperCommand(
  nodePath: string,
  cliPath: string,
  inputs: ActionInputs,
  name: string,
): string {
  for (const path of [nodePath, cliPath])
    if (path.includes('"') || path.includes("$") || path.includes("`"))
      throw new ClientError("output_failed", "A path contains a shell quoting character.");
  // URL and audience hold no quote (checked when parsed); single quotes keep the shell from reading `?` or `~` in them.
  return `!"${nodePath}" "${cliPath}" git-credential --broker-url '${inputs.githubTokenEndpoint.href}' --name ${name} --github-actions --audience '${inputs.audience}'`;
}

export interface GithubTokenPlan {
  /** The ::add-mask:: line for the token: printed before any other line. */
  mask: string;
  /** Appended to GITHUB_OUTPUT: github-token, github-token-expires-at, git-credential-helper. */
  output: string;
  /** One line for the log: the grant, repositories and permissions, never the token. */
  summary: string;
}

export function planGithubToken(
  token: GithubToken,
  name: string,
  requestId: string | undefined,
  helper: string,
  delimiter: string,
): GithubTokenPlan {
  return {
    mask: maskCommand(token.token),
    output: fileCommandEntries(
      [
        ["github-token", token.token],
        ["github-token-expires-at", token.expiresAt],
        ["git-credential-helper", helper],
      ],
      delimiter,
    ),
    summary:
      `GitHub token ${name}: ${describeGithubToken(token)}, expires ${token.expiresAt}${requestId === undefined ? "" : `, request id ${requestId}`}. ` +
      "Set as step output github-token; the post step revokes it.",
  };
}

export interface PostPlan {
  /** Appended to GITHUB_ENV: every exported variable set to "". */
  env: string;
  cleared: string[];
}

/**
 * GitHub cannot unset a job variable, so the post step overwrites each exported one with an empty value: later post steps
 * (other actions' clean-ups) no longer see the keys. The credentials themselves stay valid until they expire.
 */
export function planPost(exported: string | undefined, delimiter: string): PostPlan {
  const cleared = (exported ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => CLEARABLE.has(name));
  return {
    env: fileCommandEntries(
      cleared.map((name) => [name, ""] as const),
      delimiter,
    ),
    cleared,
  };
}
