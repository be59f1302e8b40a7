// Parses the CLI's arguments (credential-process | env) into validated options, and its usage text.
// Pure; no I/O: argv and the environment arrive as values.
import { ClientError } from "./errors.ts";
import { credentialsEndpoint } from "./exchange.ts";
import { parseAudience, parseDuration, parseRegion, parseRole, requireValue } from "./inputs.ts";

export const USAGE = `usage: ci-credentials <credential-process|env> --broker-url URL [options]

  credential-process   print AWS credential_process JSON (Version 1) on stdout: for a profile's
                       credential_process line, so every AWS SDK and the AWS CLI re-run it when the keys expire
  env                  print \`export AWS_...='...'\` lines for a POSIX shell: creds="$(... env ...)" && eval "$creds"

options:
  --broker-url URL     the broker (https; http only for a loopback address)
  --role ALIAS         role alias from the broker's policy (default: the matching rule's only role)
  --duration SECONDS   credential lifetime, 900-43200 (default: the broker's, 900)
  --region REGION      also print AWS_REGION and AWS_DEFAULT_REGION (env only)
  --deadline SECONDS   give up after this long, retries included (default 60)
  --debug              progress on stderr (also CI_CREDENTIALS_DEBUG=1 or RUNNER_DEBUG=1); never prints a secret

OIDC token source (one; every attempt takes a new token from it):
  --github-actions     GitHub Actions' token endpoint (needs \`permissions: id-token: write\`); the default when GITHUB_ACTIONS=true
  --audience AUD       audience to ask GitHub for (default ci-credential-broker)
  --token-env NAME     a variable holding the token, e.g. a GitLab id_tokens variable (one exchange per token)
  --token-file PATH    a file holding the token, re-read on every call
`;

export type CliCommand = "credential-process" | "env";

export type CliTokenSource = { kind: "github-actions"; audience: string } | { kind: "env"; name: string } | { kind: "file"; path: string };

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

const VALUE_FLAGS = new Set(["broker-url", "role", "duration", "region", "deadline", "audience", "token-env", "token-file"]);
const BOOLEAN_FLAGS = new Set(["debug", "github-actions", "help"]);
/** Environment variable names as POSIX defines them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longest deadline a caller may ask for: an hour of retrying is a hung job, not patience. */
const MAX_DEADLINE_SECONDS = 3600;

/** `help` when --help is given (the caller prints USAGE and exits 0). */
export function parseCliArgs(argv: readonly string[], getEnv: (name: string) => string | undefined): CliOptions | "help" {
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
  if (command !== "credential-process" && command !== "env") throw new ClientError("usage", "Give a command: credential-process or env. Run with --help for the options.");
  if (rest.length > 0) throw new ClientError("usage", `Unexpected argument ${JSON.stringify(rest[0])}.`);

  const sources = [flags.has("github-actions"), values.has("token-env"), values.has("token-file")].filter(Boolean).length;
  if (sources > 1) throw new ClientError("usage", "Give one token source: --github-actions, --token-env or --token-file.");
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
    throw new ClientError("usage", "--audience applies to --github-actions only: the token in a variable or file already carries its audience.");
  }

  let deadlineMs: number | undefined;
  const deadline = values.get("deadline");
  if (deadline !== undefined) {
    const seconds = /^\d{1,4}$/.test(deadline) ? Number(deadline) : Number.NaN;
    if (!(seconds >= 1 && seconds <= MAX_DEADLINE_SECONDS)) throw new ClientError("usage", `--deadline must be whole seconds from 1 to ${MAX_DEADLINE_SECONDS}.`);
    deadlineMs = seconds * 1000;
  }
  const region = parseRegion(values.get("region"), "--region");
  if (region !== undefined && command !== "env") throw new ClientError("usage", "--region applies to env only (put region in the AWS profile for credential-process).");

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
