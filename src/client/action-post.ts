// The GitHub Action's post step: empties the AWS_* variables the main step exported (GitHub cannot unset them).
// Entry point (bundled to src/client/bundle/action-post.mjs). Reads the main step's state from STATE_exported.
import { randomUUID } from "node:crypto";
import { EXPORTED_STATE, planPost } from "./action.ts";
import { ClientError, describeError, UNEXPECTED_EXIT_CODE } from "./errors.ts";
import { errorCommand, newDelimiter } from "./github-commands.ts";
import { appendToRunnerFile, env, writeStdout } from "./node-io.ts";

function main(): number {
  try {
    const plan = planPost(env(`STATE_${EXPORTED_STATE}`), newDelimiter(randomUUID()));
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
    writeStdout(`${errorCommand("ci-credentials: unexpected error", `${error instanceof Error ? error.name : typeof error}: this is a bug in the client; please report it.`)}\n`);
    return UNEXPECTED_EXIT_CODE;
  }
}

process.exitCode = main();
