// Parses the CLI's arguments (credential-process | env | github-token | git-credential | revoke-github-tokens) into
// validated options, and its usage text.
// Pure; no I/O: argv and the environment arrive as values.
import { ClientError } from "./errors.ts";
import { brokerEndpoint, credentialsEndpoint } from "./broker-endpoint.ts";
import { gitOperation, type GitOperation } from "./git-credential.ts";
import { parseAudience, parseDuration, parseGrantName, parseRegion, parseRole, requireValue } from "./inputs.ts";

export const USAGE = `usage: ci-credentials <command> --broker-url URL [options]

AWS credentials:
  credential-process   print AWS credential_process JSON (Version 1) on stdout: for a profile's
                       credential_process line, so every AWS SDK and the AWS CLI re-run it when the keys expire
  env                  print \`export AWS_...='...'\` lines for a POSIX shell: creds="$(... env ...)" && eval "$creds"

GitHub tokens (docs/github-tokens.md; tokens are kept in the job's temp folder until shortly before they expire):
  github-token --name GRANT
                       print an installation token for the policy's grant on stdout
  git-credential --name GRANT [--host HOST] get|store|erase
                       a git credential helper: git config credential.https://github.com.helper
                       '!<node> <cli.mjs> git-credential --broker-url URL --name GRANT' (git appends the operation)
  revoke-github-tokens revoke every GitHub token this job minted (GitLab: in after_script; the Action's post step does it)

options:
  --broker-url URL     the broker (https; http only for a loopback address)
  --role ALIAS         role alias from the broker's policy (default: the matching rule's only role)
  --duration SECONDS   credential lifetime, 900-43200 (default: the broker's, 900)
  --region REGION      also print AWS_REGION and AWS_DEFAULT_REGION (env only)
  --name GRANT         GitHub token grant from the broker's policy (github-token, git-credential)
  --host HOST          git-credential: the git host to answer for (default: GITHUB_SERVER_URL's host, else github.com)
  --deadline SECONDS   give up after this long, retries included (default 60)
  --debug              progress on stderr (also CI_CREDENTIALS_DEBUG=1 or RUNNER_DEBUG=1); never prints a secret

OIDC token source (one; every attempt takes a new token from it):
  --github-actions     GitHub Actions' token endpoint (needs \`permissions: id-token: write\`); the default when GITHUB_ACTIONS=true
  --audience AUD       audience to ask GitHub for (default ci-credential-broker)
  --token-env NAME     a variable holding the token, e.g. a GitLab id_tokens variable (one exchange per token)
  --token-file PATH    a file holding the token, re-read on every call
`;

export type CliCommand = "credential-process" | "env";
export type GithubCliCommand = "github-token" | "git-credential" | "revoke-github-tokens";

export type CliTokenSource =
  | { kind: "github-actions"; audience: string }
  | { kind: "env"; name: string }
  | { kind: "file"; path: string };

export interface CliOptions {
  command: CliCommand;
  endpoint: URL;
  role: string | undefined;
  durationSeconds: number | undefined;
  region: string | undefined;
  deadlineMs: number | undefined;
  debug: boolean;
  tokenSource: CliTokenSource;
}

export interface GithubCliOptions {
  command: GithubCliCommand;
  /** POST /v1/github-token (undefined for revoke-github-tokens, which talks to GitHub only). */
  endpoint: URL | undefined;
  /** The grant (github-token, git-credential). */
  name: string | undefined;
  /** git-credential: the host git must ask for, and the operation git gave (undefined: one to ignore). */
  gitHost: string | undefined;
  gitOperation: GitOperation | undefined;
  deadlineMs: number | undefined;
  debug: boolean;
  tokenSource: CliTokenSource | undefined;
}

const GITHUB_COMMANDS = new Set<string>(["github-token", "git-credential", "revoke-github-tokens"]);

export function isGithubCliOptions(options: CliOptions | GithubCliOptions): options is GithubCliOptions {
  return GITHUB_COMMANDS.has(options.command);
}
/** A git host as git sends it: a DNS name or address, optionally `:port`. */
const GIT_HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const VALUE_FLAGS = new Set([
  "broker-url",
  "role",
  "duration",
  "region",
  "deadline",
  "audience",
  "token-env",
  "token-file",
  "name",
  "host",
]);
const BOOLEAN_FLAGS = new Set(["debug", "github-actions", "help"]);
/** Environment variable names as POSIX defines them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longest deadline a caller may ask for: an hour of retrying is a hung job, not patience. */
const MAX_DEADLINE_SECONDS = 3600;

interface Parsed {
  values: Map<string, string>;
  flags: Set<string>;
  positional: string[];
}

/** `help` when --help is given (the caller prints USAGE and exits 0). */
export function parseCliArgs(
  argv: readonly string[],
  getEnv: (name: string) => string | undefined,
): CliOptions | GithubCliOptions | "help" {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq !== -1) throw new ClientError("usage", `--${name} takes no value.`);
      flags.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new ClientError("usage", `--${name} needs a value.`);
      if (values.has(name)) throw new ClientError("usage", `--${name} given twice.`);
      values.set(name, value);
    } else {
      throw new ClientError("usage", `Unknown option --${name}. Run with --help for the options.`);
    }
  }
  if (flags.has("help")) return "help";
  const [command, ...rest] = positional;
  if (command !== undefined && GITHUB_COMMANDS.has(command))
    return githubOptions(command as GithubCliCommand, rest, { values, flags, positional }, getEnv);
  if (command !== "credential-process" && command !== "env") {
    throw new ClientError(
      "usage",
      "Give a command: credential-process, env, github-token, git-credential or revoke-github-tokens. Run with --help for the options.",
    );
  }
  if (rest.length > 0) throw new ClientError("usage", `Unexpected argument ${JSON.stringify(rest[0])}.`);
  for (const flag of ["name", "host"])
    if (values.has(flag)) throw new ClientError("usage", `--${flag} applies to the GitHub token commands only.`);
  const tokenSource = tokenSourceOf({ values, flags, positional }, getEnv);
  const deadlineMs = deadlineOf(values);

  const region = parseRegion(values.get("region"), "--region");
  if (region !== undefined && command !== "env")
    throw new ClientError(
      "usage",
      "--region applies to env only (put region in the AWS profile for credential-process).",
    );

  return {
    command,
    endpoint: credentialsEndpoint(requireValue(values.get("broker-url"), "--broker-url")),
    role: parseRole(values.get("role"), "--role"),
    durationSeconds: parseDuration(values.get("duration"), "--duration"),
    region,
    deadlineMs,
    debug: flags.has("debug") || getEnv("CI_CREDENTIALS_DEBUG") === "1" || getEnv("RUNNER_DEBUG") === "1",
    tokenSource,
  };
}

function tokenSourceOf({ values, flags }: Parsed, getEnv: (name: string) => string | undefined): CliTokenSource {
  const sources = [flags.has("github-actions"), values.has("token-env"), values.has("token-file")].filter(
    Boolean,
  ).length;
  if (sources > 1)
    throw new ClientError("usage", "Give one token source: --github-actions, --token-env or --token-file.");
  let tokenSource: CliTokenSource;
  const tokenEnv = values.get("token-env");
  const tokenFile = values.get("token-file");
  if (tokenEnv !== undefined) {
    if (!ENV_NAME.test(tokenEnv)) throw new ClientError("usage", "--token-env must be a variable name.");
    tokenSource = { kind: "env", name: tokenEnv };
  } else if (tokenFile !== undefined) {
    tokenSource = { kind: "file", path: requireValue(tokenFile, "--token-file") };
  } else if (flags.has("github-actions") || getEnv("GITHUB_ACTIONS") === "true") {
    tokenSource = { kind: "github-actions", audience: parseAudience(values.get("audience"), "--audience") };
  } else {
    throw new ClientError("usage", "Give a token source: --github-actions, --token-env NAME or --token-file PATH.");
  }
  if (tokenSource.kind !== "github-actions" && values.has("audience")) {
    throw new ClientError(
      "usage",
      "--audience applies to --github-actions only: the token in a variable or file already carries its audience.",
    );
  }
  return tokenSource;
}

function deadlineOf(values: Map<string, string>): number | undefined {
  const deadline = values.get("deadline");
  if (deadline === undefined) return undefined;
  const seconds = /^\d{1,4}$/.test(deadline) ? Number(deadline) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_DEADLINE_SECONDS))
    throw new ClientError("usage", `--deadline must be whole seconds from 1 to ${MAX_DEADLINE_SECONDS}.`);
  return seconds * 1000;
}

/** The git host to answer for: --host, else the GitHub server this job runs on (GHES), else github.com. */
function gitHostOf(values: Map<string, string>, getEnv: (name: string) => string | undefined): string {
  const given = values.get("host");
  if (given !== undefined) {
    if (!GIT_HOST.test(given))
      throw new ClientError("usage", "--host must be a host name as git sends it (github.com, ghes.example:8443).");
    return given.toLowerCase();
  }
  const server = getEnv("GITHUB_SERVER_URL");
  return server !== undefined && URL.canParse(server) ? new URL(server).host : "github.com";
}

function githubOptions(
  command: GithubCliCommand,
  rest: string[],
  parsed: Parsed,
  getEnv: (name: string) => string | undefined,
): GithubCliOptions {
  const { values } = parsed;
  for (const flag of ["role", "duration", "region"])
    if (values.has(flag)) throw new ClientError("usage", `--${flag} applies to AWS credentials only.`);
  if (command === "git-credential" && rest.length === 0)
    throw new ClientError(
      "usage",
      "git-credential needs the operation git gives it (get, store or erase): configure it as a credential helper.",
    );
  if ((command === "git-credential" ? rest.slice(1) : rest).length > 0)
    throw new ClientError(
      "usage",
      `Unexpected argument ${JSON.stringify((command === "git-credential" ? rest[1] : rest[0]) ?? "")}.`,
    );
  if (command !== "git-credential" && values.has("host"))
    throw new ClientError("usage", "--host applies to git-credential only.");
  const debug = parsed.flags.has("debug") || getEnv("CI_CREDENTIALS_DEBUG") === "1" || getEnv("RUNNER_DEBUG") === "1";
  if (command === "revoke-github-tokens") {
    for (const flag of ["broker-url", "name", "token-env", "token-file", "audience"])
      if (values.has(flag))
        throw new ClientError("usage", `revoke-github-tokens takes no --${flag}: it revokes what this job minted.`);
    return {
      command,
      endpoint: undefined,
      name: undefined,
      gitHost: undefined,
      gitOperation: undefined,
      deadlineMs: deadlineOf(values),
      debug,
      tokenSource: undefined,
    };
  }
  return {
    command,
    endpoint: brokerEndpoint(requireValue(values.get("broker-url"), "--broker-url"), "/v1/github-token"),
    name: parseGrantName(values.get("name"), "--name"),
    gitHost: command === "git-credential" ? gitHostOf(values, getEnv) : undefined,
    gitOperation: command === "git-credential" ? gitOperation(rest[0]) : undefined,
    deadlineMs: deadlineOf(values),
    debug,
    tokenSource: tokenSourceOf(parsed, getEnv),
  };
}
