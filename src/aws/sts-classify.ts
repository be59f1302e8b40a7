// What an STS answer means: success, a retry (throttled, transient) or a final error, from its status and <Code>.
// Pure: no I/O, no clock. The role's ARN and the account id are in STS's Message; nothing here keeps it.
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import { BrokerError, type BrokerReason, type ErrorCode } from "../errors.ts";
import type { CappedText } from "../http/read-capped.ts";
import {
  parseCredentialsResponse,
  parseStsError,
  type CredentialsAction,
  type StsCredentials,
} from "./sts-response.ts";

export type RetryReason = "sts_throttled" | "sts_unavailable" | "sts_timeout";

export type AttemptOutcome =
  | { kind: "ok"; credentials: StsCredentials }
  | { kind: "retry"; reason: RetryReason; detail: string }
  | { kind: "fail"; error: BrokerError };

// Error codes, as STS writes them in <Code> (Query protocol names, which drop the SDKs' `Exception` suffix
// for some): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
// and https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html. Both spellings are listed.
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
]);
const TRANSIENT_CODES = new Set([
  "IDPCommunicationError",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "PriorRequestNotComplete",
]);

/** Final (not retried) errors: STS code -> what we answer. The role's ARN is in STS's Message; we never keep it. */
const FINAL_ERRORS: ReadonlyMap<string, { code: ErrorCode; reason: BrokerReason }> = new Map<
  string,
  { code: ErrorCode; reason: BrokerReason }
>([
  ...["AccessDenied", "AccessDeniedException"].map(
    (code) => [code, { code: "forbidden", reason: "sts_access_denied" }] as const,
  ),
  ...["RegionDisabledException", "RegionDisabled"].map(
    (code) => [code, { code: "upstream_unavailable", reason: "sts_region_disabled" }] as const,
  ),
  // The request as we formed it: a bug in session.ts or a policy STS will not take. Retrying cannot help.
  ...[
    "ValidationError",
    "MalformedPolicyDocument",
    "MalformedPolicyDocumentException",
    "PackedPolicyTooLarge",
    "PackedPolicyTooLargeException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidAction",
    "InvalidQueryParameter",
    "MalformedQueryString",
    "RequestExpired",
  ].map((code) => [code, { code: "internal_error", reason: "sts_rejected_request" }] as const),
  // The broker's own AWS credentials are wrong, expired or mis-signed: an operator must act.
  ...[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "UnrecognizedClientException",
  ].map((code) => [code, { code: "internal_error", reason: "sts_broker_credentials" }] as const),
  // Web-identity mode: AWS could not validate the broker's own token (OIDC provider not registered in IAM, key not
  // published, wrong audience): an operator must act. AssumeRoleWithWebIdentity errors:
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html#API_AssumeRoleWithWebIdentity_Errors
  ...["InvalidIdentityToken", "InvalidIdentityTokenException", "IDPRejectedClaim", "IDPRejectedClaimException"].map(
    (code) => [code, { code: "internal_error", reason: "sts_identity_token_rejected" }] as const,
  ),
]);

function isKnownCode(code: string): boolean {
  return THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code) || FINAL_ERRORS.has(code);
}

/** What the log line may say about an attempt: status, and the code only if it is one of ours (never free text). */
function describe(status: number, code: string | undefined): string {
  const shownCode = code === undefined ? "none" : isKnownCode(code) ? code : "unrecognised";
  return `status ${status} code ${shownCode}`;
}

/** A final error; 503s always carry Retry-After (errors.ts). */
export function finalError(code: ErrorCode, reason: BrokerReason, cause: string): BrokerError {
  const retryAfterSeconds = code === "upstream_unavailable" ? UPSTREAM_RETRY_AFTER_SECONDS : undefined;
  return new BrokerError(code, reason, { ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }), cause });
}

export type BodyRead = CappedText;

/** Sort one answer into success, retry or final failure. */
export function classify(status: number, body: BodyRead, action: CredentialsAction): AttemptOutcome {
  if (status === 200) {
    if ("failure" in body) {
      // A cut connection is transient; an oversized or non-UTF-8 success is not STS talking.
      return body.failure === "read_failed"
        ? { kind: "retry", reason: "sts_unavailable", detail: "status 200 body read failed" }
        : {
            kind: "fail",
            error: finalError("upstream_unavailable", "sts_bad_response", `sts: status 200 body ${body.failure}`),
          };
    }
    try {
      return { kind: "ok", credentials: parseCredentialsResponse(body.text, action) };
    } catch (error) {
      if (error instanceof BrokerError) return { kind: "fail", error };
      throw error;
    }
  }
  const code = "text" in body ? parseStsError(body.text)?.code : undefined;
  const detail = describe(status, code);
  if (code !== undefined && THROTTLING_CODES.has(code)) return { kind: "retry", reason: "sts_throttled", detail };
  if (code !== undefined && TRANSIENT_CODES.has(code)) return { kind: "retry", reason: "sts_unavailable", detail };
  const final = code === undefined ? undefined : FINAL_ERRORS.get(code);
  if (final !== undefined) return { kind: "fail", error: finalError(final.code, final.reason, `sts: ${detail}`) };
  if (status === 429) return { kind: "retry", reason: "sts_throttled", detail };
  if (status >= 500) return { kind: "retry", reason: "sts_unavailable", detail };
  // A well-formed STS error we do not know: STS refused the request as formed. Anything else is not STS.
  if (code !== undefined)
    return { kind: "fail", error: finalError("internal_error", "sts_rejected_request", `sts: ${detail}`) };
  return { kind: "fail", error: finalError("upstream_unavailable", "sts_bad_response", `sts: ${detail}`) };
}
