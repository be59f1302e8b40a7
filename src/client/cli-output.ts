// What the CLI writes to stderr besides errors and debug lines: masks under GitHub Actions, and the `env` summary.
// Pure; no I/O: the environment arrives as a flag.
import type { CliCommand } from "./cli-args.ts";
import { maskedAccessKeyId, type Credentials } from "./credentials.ts";
import { credentialMasks } from "./github-commands.ts";

/**
 * Stderr text for fetched credentials. Under GitHub Actions (`GITHUB_ACTIONS=true`): ::add-mask:: lines first, which
 * the runner honours on a step's stderr as on its stdout. In `credential_process` mode they reach the runner only when
 * the AWS SDK running the helper passes its stderr through (docs/security.md, "Credentials in logs"). `env` adds one
 * summary line with the access key id masked.
 */
export function cliStderr(
  command: CliCommand,
  credentials: Credentials,
  requestId: string | undefined,
  githubActions: boolean,
): string {
  let text = githubActions
    ? credentialMasks(credentials)
        .map((line) => `${line}\n`)
        .join("")
    : "";
  if (command === "env") {
    text += `ci-credentials: AccessKeyId ${maskedAccessKeyId(credentials.accessKeyId)}, expire ${credentials.expiration}${requestId === undefined ? "" : `, request id ${requestId}`}\n`;
  }
  return text;
}
