// Validates the broker's 200 body as AWS credential_process JSON, strictly, and renders credentials for each output.
// Pure; no I/O; the time a check needs arrives as `nowMs`. Values that pass are safe to put in a shell word or a
// GITHUB_ENV line.
import { parseStrictJson } from "../http/strict-json.ts";
import { EXPIRATION_SLACK_MS, MAX_DURATION_SECONDS, MAX_SESSION_TOKEN_CHARS } from "./constants.ts";
import { ClientError } from "./errors.ts";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 UTC, as the broker sent it. */
  expiration: string;
  expiresAtMs: number;
}

// https://docs.aws.amazon.com/cli/v1/userguide/cli-configure-sourcing-external.html: Version 1 and exactly these
// members.
const MEMBERS = ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken", "Version"];
/** IAM: access key ids are 16-128 characters of [A-Z0-9] (temporary ones start ASIA). */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** Secret keys are 40 base64-ish characters; allow printable ASCII without spaces or quotes, 16-128 long. */
const SECRET_ACCESS_KEY = /^[A-Za-z0-9+/=]{16,128}$/;
/** STS session tokens are base64. */
const SESSION_TOKEN = new RegExp(`^[A-Za-z0-9+/=]{16,${MAX_SESSION_TOKEN_CHARS}}$`);
/** ISO 8601 UTC as STS writes it (seconds, optional fraction, Z). */
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function notCredentials(detail: string, requestId: string | undefined): ClientError {
  return new ClientError(
    "not_credentials",
    `The broker answered 200 but the body is not credential_process JSON (${detail}). Check that broker-url points at the broker itself, not a proxy or login page.`,
    requestId === undefined ? {} : { requestId },
  );
}

/** Parses and checks a 200 body. Any deviation is `not_credentials`: nothing half-valid reaches an output. */
export function parseCredentials(body: string, nowMs: number, requestId?: string): Credentials {
  const parsed = parseStrictJson(body);
  if (!parsed.ok)
    throw notCredentials(parsed.reason === "json_duplicate_key" ? "duplicate member" : "not JSON", requestId);
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw notCredentials("not a JSON object", requestId);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.length !== MEMBERS.length || keys.some((key, i) => key !== MEMBERS[i])) {
    throw notCredentials(`members must be exactly ${MEMBERS.join(", ")}`, requestId);
  }
  if (record.Version !== 1) throw notCredentials("Version is not 1", requestId);
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = record;
  if (typeof AccessKeyId !== "string" || !ACCESS_KEY_ID.test(AccessKeyId))
    throw notCredentials("AccessKeyId malformed", requestId);
  if (typeof SecretAccessKey !== "string" || !SECRET_ACCESS_KEY.test(SecretAccessKey))
    throw notCredentials("SecretAccessKey malformed", requestId);
  if (typeof SessionToken !== "string" || !SESSION_TOKEN.test(SessionToken))
    throw notCredentials("SessionToken malformed", requestId);
  if (typeof Expiration !== "string" || !EXPIRATION.test(Expiration))
    throw notCredentials("Expiration malformed", requestId);
  const expiresAtMs = Date.parse(Expiration);
  if (!Number.isFinite(expiresAtMs)) throw notCredentials("Expiration malformed", requestId);
  if (expiresAtMs <= nowMs) throw notCredentials("already expired: check the runner's clock", requestId);
  if (expiresAtMs > nowMs + MAX_DURATION_SECONDS * 1000 + EXPIRATION_SLACK_MS)
    throw notCredentials("Expiration beyond the STS maximum", requestId);
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    expiration: Expiration,
    expiresAtMs,
  };
}

/** The AWS CLI / SDK credential_process document (Version 1), one line. */
export function credentialProcessJson(credentials: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration,
  });
}

/** The variables every AWS SDK reads, plus AWS_REGION / AWS_DEFAULT_REGION when a region is given. */
export function credentialVariables(credentials: Credentials, region: string | undefined): Array<[string, string]> {
  const variables: Array<[string, string]> = [
    ["AWS_ACCESS_KEY_ID", credentials.accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey],
    ["AWS_SESSION_TOKEN", credentials.sessionToken],
  ];
  if (region !== undefined) variables.push(["AWS_REGION", region], ["AWS_DEFAULT_REGION", region]);
  return variables;
}

/** POSIX shell `export` lines; values single-quoted (validated values hold no quote, but quote anyway). */
export function shellExports(variables: ReadonlyArray<readonly [string, string]>): string {
  return variables.map(([name, value]) => `export ${name}='${value.replaceAll("'", `'\\''`)}'\n`).join("");
}

/**
 * The access key id for a log line: its kind prefix (`ASIA` temporary, `AKIA` long-term) and last four characters.
 * Not secret, but a whole id names its AWS account to anyone who calls sts:GetAccessKeyInfo: public logs get this form.
 */
export function maskedAccessKeyId(accessKeyId: string): string {
  return `${accessKeyId.slice(0, 4)}${"*".repeat(Math.max(0, accessKeyId.length - 8))}${accessKeyId.slice(-4)}`;
}
