// The CLI: `credential-process` (AWS CLI JSON for a profile's credential_process line) and `env` (shell exports, other CI systems).
// Entry point (bundled to src/client/bundle/cli.mjs). Stdout carries only the credentials; everything else goes to stderr.
import { readFile } from "node:fs/promises";
import { parseCliArgs, USAGE, type CliOptions } from "./cli-args.ts";
import { cliStderr } from "./cli-output.ts";
import { credentialProcessJson, credentialVariables, shellExports } from "./credentials.ts";
import { ClientError, describeError, UNEXPECTED_EXIT_CODE } from "./errors.ts";
import { fetchCredentials } from "./exchange.ts";
import { warningCommand } from "./github-commands.ts";
import { env, realDeps, writeStderr, writeStdout } from "./node-io.ts";
import { actionsTokenSource, envTokenSource, fileTokenSource, type TokenSource } from "./token-source.ts";

function tokenSourceFor(options: CliOptions): TokenSource {
  const source = options.tokenSource;
  if (source.kind === "env") return envTokenSource(source.name, env);
  if (source.kind === "file") return fileTokenSource(source.path, (path) => readFile(path, "utf8"));
  return actionsTokenSource({
    requestUrl: env("ACTIONS_ID_TOKEN_REQUEST_URL"),
    requestToken: env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    audience: source.audience,
    fetch: (input, init) => fetch(input, init),
  });
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const options = parseCliArgs(argv, env);
    if (options === "help") {
      writeStdout(USAGE);
      return 0;
    }
    const debug = options.debug ? (message: string) => writeStderr(`ci-credentials: ${message}\n`) : () => undefined;
    // On a GitHub runner a workflow command on stderr becomes an annotation too; elsewhere a plain line.
    const warn = (message: string) =>
      writeStderr(options.tokenSource.kind === "github-actions" ? `${warningCommand("ci-credentials: OIDC token replayed", message)}\n` : `ci-credentials: warning: ${message}\n`);
    const fetched = await fetchCredentials(
      {
        endpoint: options.endpoint,
        role: options.role,
        durationSeconds: options.durationSeconds,
        ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      },
      realDeps(tokenSourceFor(options), debug, undefined, warn),
    );
    const { credentials } = fetched;
    // Masks before the credentials leave the process (a no-op outside GitHub Actions).
    const stderr = cliStderr(options.command, credentials, fetched.requestId, env("GITHUB_ACTIONS") === "true");
    if (stderr !== "") writeStderr(stderr);
    if (options.command === "credential-process") writeStdout(`${credentialProcessJson(credentials)}\n`);
    else writeStdout(shellExports(credentialVariables(credentials, options.region)));
    return 0;
  } catch (error) {
    if (error instanceof ClientError) {
      writeStderr(`ci-credentials: ${describeError(error)}\n`);
      return error.exitCode;
    }
    writeStderr(`ci-credentials: unexpected ${error instanceof Error ? error.name : typeof error}: this is a bug in the client; please report it.\n`);
    return UNEXPECTED_EXIT_CODE;
  }
}

process.exitCode = await main(process.argv.slice(2));
