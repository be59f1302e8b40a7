// The GitHub Action's main step: job OIDC token -> broker -> a masked GitHub token in step outputs (github-token-name)
// and/or masked AWS credentials in GITHUB_ENV (or step outputs). Entry point (bundled to client-dist/action-main.mjs).
// Prints nothing but ::add-mask:: lines until every secret is masked.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  credentialProcessCommand,
  gitCredentialHelperCommand,
  inputVariable,
  parseActionInputs,
  planGithubToken,
  planMain,
  type ActionInputs,
} from "./action.ts";
import { ClientError, describeError, UNEXPECTED_EXIT_CODE } from "./errors.ts";
import type { ClientDeps } from "./client-deps.ts";
import { fetchCredentials } from "./exchange.ts";
import {
  debugCommand,
  errorCommand,
  maskCommand,
  newDelimiter,
  noticeCommand,
  warningCommand,
} from "./github-commands.ts";
import { fetchGithubToken } from "./github-token.ts";
import { obtainGithubToken } from "./job-tokens.ts";
import { migrationAdvice } from "./migration.ts";
import { appendToRunnerFile, env, realDeps, writeStdout } from "./node-io.ts";
import { jobTokenStore, tokenCacheKey } from "./token-cache.ts";
import { actionsTokenSource } from "./token-source.ts";

/** The bundled CLI beside this file (client-dist/); the runner's node24 stays for the whole job. */
const cliPath = () => fileURLToPath(new URL("./cli.mjs", import.meta.url));

/**
 * The grant's token: minted (or reused from this job's cache, where the git credential helper finds it too), listed for
 * the post step's revocation before anything else happens, and masked at once.
 */
async function githubTokenStep(
  inputs: ActionInputs,
  name: string,
  deps: ClientDeps,
  delimiter: string,
): Promise<string> {
  let requestId: string | undefined;
  const mint = async () => {
    const fetched = await fetchGithubToken({ endpoint: inputs.githubTokenEndpoint, name }, deps);
    requestId = fetched.requestId;
    return fetched.token;
  };
  const { token } = await obtainGithubToken(
    jobTokenStore(env),
    tokenCacheKey(inputs.githubTokenEndpoint, name),
    mint,
    Date.now,
  );
  const plan = planGithubToken(
    token,
    name,
    requestId,
    gitCredentialHelperCommand(process.execPath, cliPath(), inputs, name),
    delimiter,
  );
  writeStdout(`${plan.mask}\n`);
  appendToRunnerFile("GITHUB_OUTPUT", plan.output);
  return plan.summary;
}

async function main(): Promise<number> {
  // Debug and warning lines wait until the masks are out: "before anything else is printed" holds even with step debug
  // on.
  const held: string[] = [];
  let masked = false;
  const print = (line: string) => {
    if (masked) writeStdout(line);
    else held.push(line);
  };
  const debug = (message: string) => print(`${debugCommand(message)}\n`);
  const warn = (message: string) => print(`${warningCommand("ci-credentials: OIDC token replayed", message)}\n`);
  const release = () => {
    masked = true;
    for (const line of held.splice(0)) writeStdout(line);
  };
  try {
    // Inputs of aws-actions/configure-aws-credentials left in a migrated step (the runner passes undeclared `with:`
    // inputs
    // as INPUT_* too): judged first, so the advice shows beside a usage error as well. Names only: a value may be a
    // secret.
    const advice = migrationAdvice((name) => env(inputVariable(name)));
    for (const message of advice.warnings) print(`${warningCommand("ci-credentials: input not used", message)}\n`);
    if (advice.notice !== undefined) print(`${noticeCommand("ci-credentials: credential lifetime", advice.notice)}\n`);
    const inputs = parseActionInputs(env);
    const tokens = actionsTokenSource({
      requestUrl: env("ACTIONS_ID_TOKEN_REQUEST_URL"),
      requestToken: env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
      audience: inputs.audience,
      fetch: (input, init) => fetch(input, init),
    });
    // Each OIDC token is masked as soon as it exists (as @actions/core getIDToken does): it is a bearer credential
    // until used.
    const onToken = (token: string) => writeStdout(`${maskCommand(token)}\n`);
    const deps = realDeps(tokens, debug, onToken, warn);
    const delimiter = newDelimiter(randomUUID());
    const summaries: string[] = [];
    if (inputs.githubTokenName !== undefined)
      summaries.push(await githubTokenStep(inputs, inputs.githubTokenName, deps, delimiter));
    if (inputs.aws) {
      const fetched = await fetchCredentials(
        { endpoint: inputs.endpoint, role: inputs.role, durationSeconds: inputs.durationSeconds },
        deps,
      );
      const command = credentialProcessCommand(process.execPath, cliPath(), inputs);
      const plan = planMain(fetched.credentials, inputs, fetched.requestId, command, delimiter);
      writeStdout(plan.masks.map((line) => `${line}\n`).join(""));
      appendToRunnerFile("GITHUB_ENV", plan.env);
      appendToRunnerFile("GITHUB_OUTPUT", plan.output);
      appendToRunnerFile("GITHUB_STATE", plan.state);
      summaries.push(plan.summary);
    }
    release();
    for (const summary of summaries) writeStdout(`${summary}\n`);
    return 0;
  } catch (error) {
    release();
    if (error instanceof ClientError) {
      writeStdout(`${errorCommand(`ci-credentials: ${error.code}`, describeError(error))}\n`);
      return error.exitCode;
    }
    // A bug: name it without its message, which could quote anything it was handling.
    writeStdout(
      `${errorCommand("ci-credentials: unexpected error", `${error instanceof Error ? error.name : typeof error}: this is a bug in the client; please report it.`)}\n`,
    );
    return UNEXPECTED_EXIT_CODE;
  }
}

process.exitCode = await main();
