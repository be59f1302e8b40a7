// The messages an exchange ends or warns with: giving up after its attempts (and what would let a later run succeed),
// and a fresh token refused as already used (a replay by someone else). Never a token: its SHA-256 prefix at most.
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "./constants.ts";
import { withRequestId } from "./broker-answer.ts";
import { ClientError } from "./errors.ts";
import { sha256HexPrefix } from "../http/sha256-prefix.ts";

/**
 * The SHA-256 prefix of a token, as the broker writes it to its audit event (src/audit/event.ts): correlates without
 * revealing it.
 */
export async function tokenHashPrefix(token: string): Promise<string> {
  return sha256HexPrefix(token, TOKEN_HASH_PREFIX_HEX_CHARS);
}

/**
 * Names a fetch failure without its message (which may quote a URL with a query): the error code or the error's name.
 */
export function networkCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === "string" && /^[A-Z_]{2,40}$/.test(code)) return code;
    if (error.name === "TimeoutError" || error.name === "AbortError") return "timed out";
    return error.name;
  }
  return "unknown error";
}

/** The last failure, with how many attempts were made in how long, and why waiting longer would (not) help. */
export function finalError(
  last: ClientError,
  attempts: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  leftMs: number,
): ClientError {
  const tried = `Gave up after ${attempts} attempt${attempts === 1 ? "" : "s"} in ${(elapsedMs / 1000).toFixed(1)} s.`;
  let later = "";
  if (retryAfterMs !== undefined) {
    const wait = Math.ceil(retryAfterMs / 1000);
    const left = Math.max(0, Math.floor(leftMs / 1000));
    later =
      last.code === "rate_limited"
        ? ` The broker queued this job: a token for it in ${wait} s, but only ${left} s were left before this client's deadline. ` +
          "Allow a longer deadline (CLI --deadline), start fewer jobs of this repository at once, or raise the rule's rateLimit (docs/fleet-scale.md)."
        : ` The broker asked to wait ${wait} s, past this client's deadline (${left} s left); re-run the job then.`;
  }
  const ids = withRequestId(last.requestId);
  const status = last.status === undefined ? {} : { status: last.status };
  return new ClientError(last.code, `${last.message} ${tried}${later}`, { ...ids, ...status, cause: last.cause });
}

/** What a fresh token refused as already used means: someone else presented it first. One line, no token. */
export async function replayWarning(token: string | undefined, requestId: string | undefined): Promise<string> {
  const hash = token === undefined ? "" : ` (sha256 ${await tokenHashPrefix(token)})`;
  const lookup =
    requestId === undefined
      ? ""
      : ` Request id ${requestId}: an operator can look it up with \`npm run analytics -- request ${requestId}\`.`;
  return (
    `The broker refused the OIDC token this job minted moments ago${hash} as already used, though this client sent it only once: ` +
    `something else presented it first (a proxy or tool replaying the request, or someone who obtained the token from this runner). ` +
    `Retrying once with a new token.${lookup}`
  );
}
