// The CLI: `credential-process` (AWS CLI JSON for a profile's credential_process line), `env` (shell exports, other CI
// systems), and the GitHub token commands (cli-github.ts). Entry point (bundled to client-dist/cli.mjs). Stdout
// carries only the credentials or token; everything else goes to stderr.
import { isGithubCliOptions, parseCliArgs, USAGE } from "./cli-args.ts";
import { runGithubCommand } from "./cli-github.ts";
import { cliStderr } from "./cli-output.ts";
import { credentialProcessJson, credentialVariables, shellExports } from "./credentials.ts";
import { ClientError, describeError, UNEXPECTED_EXIT_CODE } from "./errors.ts";
import { fetchCredentials } from "./exchange.ts";
import { cliWarn, env, realDeps, tokenSourceFor, writeStderr, writeStdout } from "./node-io.ts";

async function main(argv: readonly string[]): Promise<number> {
  try {
    const options = parseCliArgs(argv, env);
    if (options === "help") {
      writeStdout(USAGE);
      return 0;
    }
    if (isGithubCliOptions(options)) return await runGithubCommand(options);
    const debug = options.debug ? (message: string) => writeStderr(`ci-credentials: ${message}\n`) : () => undefined;
    const warn = cliWarn(options.tokenSource);
    const fetched = await fetchCredentials(
      {
        endpoint: options.endpoint,
        role: options.role,
        durationSeconds: options.durationSeconds,
        ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      },
      realDeps(tokenSourceFor(options.tokenSource), debug, undefined, warn),
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
    writeStderr(
      `ci-credentials: unexpected ${error instanceof Error ? error.name : typeof error}: this is a bug in the client; please report it.\n`,
    );
    return UNEXPECTED_EXIT_CODE;
  }
}

process.exitCode = await main(process.argv.slice(2));
