// The GitHub Action's post step: revokes every GitHub token the job minted (the Action's and the git credential
// helper's, listed in the job's temp folder), then empties the AWS_* variables the main step exported (GitHub cannot
// unset them). Entry point (bundled to client-dist/action-post.mjs). Reads the main step's state from STATE_exported.
import { randomUUID } from "node:crypto";
import { EXPORTED_STATE, planPost } from "./action.ts";
import { ClientError, describeError, UNEXPECTED_EXIT_CODE } from "./errors.ts";
import { errorCommand, newDelimiter, warningCommand } from "./github-commands.ts";
import { describeRevocation, mintedTokens, revokeJobTokens } from "./job-tokens.ts";
import { appendToRunnerFile, env, writeStdout } from "./node-io.ts";
import { jobTokenStore } from "./token-cache.ts";

/**
 * Revokes what the job minted. A failure is a warning, never a failed job: the tokens expire within the hour anyway.
 */
async function revokeGithubTokens(): Promise<void> {
  const store = jobTokenStore(env);
  if (mintedTokens(store, Date.now()).length === 0) {
    store.clear();
    return;
  }
  const summary = await revokeJobTokens(store, (input, init) => fetch(input, init), Date.now());
  const line = `${describeRevocation(summary)}.`;
  writeStdout(
    summary.failures.length === 0
      ? `${line}\n`
      : `${warningCommand("ci-credentials: GitHub token not revoked", line)}\n`,
  );
}

async function main(): Promise<number> {
  try {
    await revokeGithubTokens();
    const exported = env(`STATE_${EXPORTED_STATE}`);
    // No state: the main step asked for a GitHub token only (or failed before AWS credentials): nothing to clear.
    if (exported === undefined) return 0;
    const plan = planPost(exported, newDelimiter(randomUUID()));
    if (plan.cleared.length === 0) {
      writeStdout("Nothing to clear: no AWS variables were exported by the main step.\n");
      return 0;
    }
    appendToRunnerFile("GITHUB_ENV", plan.env);
    writeStdout(
      `Emptied ${plan.cleared.join(", ")} for the steps that still run (GitHub cannot unset a variable). ` +
        "The credentials themselves stay valid until they expire.\n",
    );
    return 0;
  } catch (error) {
    if (error instanceof ClientError) {
      writeStdout(`${errorCommand(`ci-credentials: ${error.code}`, describeError(error))}\n`);
      return error.exitCode;
    }
    writeStdout(
      `${errorCommand("ci-credentials: unexpected error", `${error instanceof Error ? error.name : typeof error}: this is a bug in the client; please report it.`)}\n`,
    );
    return UNEXPECTED_EXIT_CODE;
  }
}

process.exitCode = await main();
