// The CLI's GitHub token commands: `github-token` (print the job's token for a grant), `git-credential` (a git
// credential helper answering for the grant's host), `revoke-github-tokens` (revoke what the job minted). Node I/O;
// the decisions are in job-tokens.ts and git-credential.ts. Stdout carries only the token (or git's answer).
import type { CliTokenSource, GithubCliOptions } from "./cli-args.ts";
import { MAX_GIT_CREDENTIAL_INPUT_BYTES } from "./constants.ts";
import { ClientError, describeError } from "./errors.ts";
import {
  asksFor,
  asksForHost,
  credentialAnswer,
  parseCredentialDescription,
  pathAllowed,
  QUIT_ANSWER,
} from "./git-credential.ts";
import { maskCommand } from "./github-commands.ts";
import { describeGithubToken, fetchGithubToken, gitRemoteOf, type GithubToken } from "./github-token.ts";
import { describeRevocation, forgetGithubToken, obtainGithubToken, revokeJobTokens } from "./job-tokens.ts";
import { cliWarn, env, readStdinCapped, realDeps, tokenSourceFor, writeStderr, writeStdout } from "./node-io.ts";
import { jobTokenStore, tokenCacheKey } from "./token-cache.ts";

/** What github-token and git-credential always have (cli-args.ts sets them for these commands). */
interface GrantOptions {
  endpoint: URL;
  name: string;
  tokenSource: CliTokenSource;
  deadlineMs: number | undefined;
}

function grantOptions(options: GithubCliOptions): GrantOptions {
  const { endpoint, name, tokenSource, deadlineMs } = options;
  if (endpoint === undefined || name === undefined || tokenSource === undefined)
    throw new Error(`${options.command} without --broker-url, --name or a token source`);
  return { endpoint, name, tokenSource, deadlineMs };
}

/**
 * The job's token for the grant: cached while it has time left, else minted at the broker (and listed for revocation).
 */
async function jobToken(options: GrantOptions, debug: (message: string) => void): Promise<GithubToken> {
  const { endpoint, name } = options;
  const deps = realDeps(tokenSourceFor(options.tokenSource), debug, undefined, cliWarn(options.tokenSource));
  const mint = async () => {
    const fetched = await fetchGithubToken(
      { endpoint, name, ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }) },
      deps,
    );
    debug(
      `minted a GitHub token for ${name}: ${describeGithubToken(fetched.token)}, expires ${fetched.token.expiresAt}, request id ${fetched.requestId ?? "none"}`,
    );
    return fetched.token;
  };
  const { token, minted } = await obtainGithubToken(jobTokenStore(env), tokenCacheKey(endpoint, name), mint, Date.now);
  if (!minted) debug(`reusing the job's GitHub token for ${name} (expires ${token.expiresAt})`);
  return token;
}

/**
 * git's `get`: the token when git asks for the grant's host (and, with a path, one of its repositories); else nothing.
 */
async function gitGet(
  options: GrantOptions,
  gitHost: string,
  input: string,
  debug: (message: string) => void,
): Promise<number> {
  const description = parseCredentialDescription(input);
  if (!asksForHost(description, gitHost)) {
    debug(
      `git asks for ${description.get("protocol") ?? "?"}://${description.get("host") ?? "?"}, not ${gitHost}: no answer`,
    );
    return 0;
  }
  let token: GithubToken;
  try {
    token = await jobToken(options, debug);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    // git would otherwise try the next helper or prompt, which fails later with a less useful message.
    writeStderr(`ci-credentials: ${describeError(error)}\n`);
    writeStdout(QUIT_ANSWER);
    return error.exitCode;
  }
  const remote = gitRemoteOf(token.apiUrl);
  if (!asksFor(description, remote)) {
    writeStderr(
      `ci-credentials: the broker's token for ${options.name} is for ${remote.protocol}://${remote.host}, not ${gitHost}: set --host ${remote.host}\n`,
    );
    return 0;
  }
  if (!pathAllowed(description, token.repositories)) {
    debug(`git asks for ${description.get("path")}, which the token for ${options.name} does not reach: no answer`);
    return 0;
  }
  writeStdout(credentialAnswer(token));
  return 0;
}

export async function runGithubCommand(options: GithubCliOptions): Promise<number> {
  const debug = options.debug ? (message: string) => writeStderr(`ci-credentials: ${message}\n`) : () => undefined;
  if (options.command === "revoke-github-tokens") {
    writeStderr(
      `ci-credentials: ${describeRevocation(await revokeJobTokens(jobTokenStore(env), (input, init) => fetch(input, init), Date.now()))}\n`,
    );
    return 0;
  }
  const grant = grantOptions(options);
  if (options.command === "github-token") {
    const token = await jobToken(grant, debug);
    // Masked before it leaves the process (a no-op outside GitHub Actions; the runner reads masks on stderr too).
    if (env("GITHUB_ACTIONS") === "true") writeStderr(`${maskCommand(token.token)}\n`);
    writeStdout(`${token.token}\n`);
    return 0;
  }
  // git writes the description, then reads the answer: read it whatever the operation, so git never writes into a
  // closed pipe.
  const input = await readStdinCapped(MAX_GIT_CREDENTIAL_INPUT_BYTES);
  const gitHost = options.gitHost ?? "github.com";
  if (options.gitOperation === "get") return gitGet(grant, gitHost, input, debug);
  if (options.gitOperation === "erase") {
    // git rejected the password (an expired or revoked token): forget it, so the next get mints a new one.
    const description = parseCredentialDescription(input);
    if (
      asksForHost(description, gitHost) &&
      forgetGithubToken(jobTokenStore(env), tokenCacheKey(grant.endpoint, grant.name), description.get("password"))
    ) {
      debug(`git rejected the cached token for ${options.name}: forgotten`);
    }
  }
  // store (the token is cached already) and operations this helper does not know: nothing to do.
  return 0;
}
