// GitHub Actions workflow commands (::add-mask::, ::debug::, ::warning::, ::error::) and file commands (GITHUB_ENV,
// GITHUB_OUTPUT,
// GITHUB_STATE) rendered as text. Pure; no I/O: the delimiter's randomness arrives as a string.
// Formats: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions
import type { Credentials } from "./credentials.ts";
import { ClientError } from "./errors.ts";

/** Command data escaping, as @actions/core does (command.ts escapeData): the runner unescapes before acting. */
export function escapeData(value: string): string {
  return value.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** Command property escaping (escapeProperty): data escaping plus ':' and ','. */
export function escapeProperty(value: string): string {
  return escapeData(value).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** Tells the runner to replace `value` with *** in every later log line. */
export function maskCommand(value: string): string {
  return `::add-mask::${escapeData(value)}`;
}

/**
 * ::add-mask:: lines for one set of credentials: the access key id (it names the account), then the secret key and the
 * session token. The runner honours them on stdout and on stderr of a step's process alike (docs/security.md).
 */
export function credentialMasks(
  credentials: Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
): string[] {
  return [
    maskCommand(credentials.accessKeyId),
    maskCommand(credentials.secretAccessKey),
    maskCommand(credentials.sessionToken),
  ];
}

/** Shown only when step debug logging is on (ACTIONS_STEP_DEBUG / RUNNER_DEBUG). */
export function debugCommand(message: string): string {
  return `::debug::${escapeData(message)}`;
}

/** An error annotation on the run summary. */
export function errorCommand(title: string, message: string): string {
  return `::error title=${escapeProperty(title)}::${escapeData(message)}`;
}

/** A warning annotation on the run summary. */
export function warningCommand(title: string, message: string): string {
  return `::warning title=${escapeProperty(title)}::${escapeData(message)}`;
}

/** A notice annotation on the run summary: information, not a problem. */
export function noticeCommand(title: string, message: string): string {
  return `::notice title=${escapeProperty(title)}::${escapeData(message)}`;
}

/** The delimiter @actions/core uses, with a random UUID: a value can never forge the end of its own entry. */
export function newDelimiter(uuid: string): string {
  return `ghadelimiter_${uuid}`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `name<<delimiter`, the value, `delimiter`: the multiline-safe form the runner parses for GITHUB_ENV, GITHUB_OUTPUT
 * and
 * GITHUB_STATE. An empty value is an empty line (the runner then sets the variable to "").
 */
export function fileCommandEntries(entries: ReadonlyArray<readonly [string, string]>, delimiter: string): string {
  let text = "";
  for (const [name, value] of entries) {
    if (!NAME.test(name))
      throw new ClientError("output_failed", `Refusing to write the variable name ${JSON.stringify(name)}.`);
    if (name.includes(delimiter) || value.includes(delimiter))
      throw new ClientError("output_failed", "A value contains the file command delimiter.");
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  return text;
}
