// `npm run sandbox -- profile`: an AWS CLI profile whose credential_process gets credentials from the running sandbox,
// as a GitHub job's would: the committed client bundle, a fresh token from the sandbox's Actions endpoint on every
// run. Pure; no I/O. docs/sandbox.md "A sandbox AWS profile".
import { SANDBOX_ACTIONS_REQUEST_TOKEN, SANDBOX_ACTIONS_TOKEN_PATH } from "./endpoints.ts";

export interface SandboxProfileOptions {
  name: string;
  region: string;
  /** Absolute paths: botocore runs the line from whatever directory the AWS CLI runs in. */
  nodePath: string;
  cliPath: string;
  brokerUrl: string;
  sandboxOrigin: string;
}

/**
 * A `[profile …]` section. Values double-quoted where they may hold spaces: botocore splits the line like a POSIX
 * shell.
 */
export function sandboxProfile(options: SandboxProfileOptions): string {
  for (const path of [options.nodePath, options.cliPath])
    if (/["\n]/.test(path)) throw new Error(`a path with a double quote or newline cannot go in a profile: ${path}`);
  const tokenUrl = `${options.sandboxOrigin}${SANDBOX_ACTIONS_TOKEN_PATH}?api-version=2.0`;
  const command = [
    "env",
    `ACTIONS_ID_TOKEN_REQUEST_URL=${tokenUrl}`,
    `ACTIONS_ID_TOKEN_REQUEST_TOKEN=${SANDBOX_ACTIONS_REQUEST_TOKEN}`,
    `"${options.nodePath}"`,
    `"${options.cliPath}"`,
    "credential-process",
    "--broker-url",
    options.brokerUrl,
    "--github-actions",
    // An hour: botocore refreshes credentials with less than 15 minutes left, so 900 s would run the client on every
    // call.
    "--duration",
    "3600",
  ].join(" ");
  return [
    `[profile ${options.name}]`,
    `region = ${options.region}`,
    // The sandbox STS's regional endpoint: requests must be signed for its region, as on AWS.
    `endpoint_url = ${options.sandboxOrigin}/sts/${options.region}`,
    `credential_process = ${command}`,
    "",
  ].join("\n");
}
