// The client's one error type: a stable code, the exit code it maps to, and a message a person can act on.
// Pure; no I/O. Messages may name the broker URL, HTTP status and request id; never a token or a credential.

/** Code -> process exit code and a short title. Exit 1 is left for bugs (an unexpected exception). */
export const CLIENT_ERROR_TABLE = {
  usage: { exit: 2, title: "Invalid input" },
  id_token_permission_missing: { exit: 3, title: "No OIDC token: the job lacks `id-token: write`" },
  id_token_unavailable: { exit: 4, title: "Could not obtain an OIDC token" },
  invalid_token: { exit: 5, title: "The broker refused the OIDC token (check the audience)" },
  forbidden: { exit: 6, title: "Denied by the broker's policy" },
  rate_limited: { exit: 7, title: "Rate limited by the broker" },
  broker_unreachable: { exit: 8, title: "Broker unreachable" },
  broker_unavailable: { exit: 9, title: "Broker temporarily unavailable" },
  not_credentials: { exit: 10, title: "The broker's answer is not credentials" },
  token_reused: { exit: 11, title: "The OIDC token was already used" },
  broker_rejected: { exit: 12, title: "The broker rejected the request" },
  output_failed: { exit: 13, title: "Could not write the credentials out" },
} as const satisfies Record<string, { exit: number; title: string }>;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_TABLE;

export interface ClientErrorOptions {
  /** The broker's request id, when it answered: an operator looks the decision up with it. */
  requestId?: string;
  /** HTTP status of the last answer, if any. */
  status?: number;
  /** A failure worth another attempt (network error, 5xx from the token endpoint): the retry loop may try again. */
  transient?: boolean;
  cause?: unknown;
}

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly exitCode: number;
  readonly requestId: string | undefined;
  readonly status: number | undefined;
  readonly transient: boolean;

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ClientError";
    this.code = code;
    this.exitCode = CLIENT_ERROR_TABLE[code].exit;
    this.requestId = options.requestId;
    this.status = options.status;
    this.transient = options.transient ?? false;
  }
}

/** Exit code for anything that is not a ClientError: a bug in the client, not a condition a user can fix. */
export const UNEXPECTED_EXIT_CODE = 1;

/** `<code>: <title>` then the message: what the log shows a person. */
export function describeError(error: ClientError): string {
  return `${error.code} (exit ${error.exitCode}): ${CLIENT_ERROR_TABLE[error.code].title}.\n${error.message}`;
}
