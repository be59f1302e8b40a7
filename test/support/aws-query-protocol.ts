// What every AWS Query-protocol fake here shares (the STS emulator, the fake IAM): SigV4 verification as AWS does
// it, with AWS's own signer (@smithy/signature-v4) recomputing the signature; reading Query parameters; rendering
// AWS's XML `<ErrorResponse>`. Platform-neutral (workerd and Node 24): WebCrypto and Request/Response only.
// References: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html,
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ChecksumConstructor, HttpRequest, QueryParameterBag } from "@smithy/types";

/** SigV4: a request whose X-Amz-Date is more than 5 minutes from AWS's clock is refused. */
const SIGV4_MAX_SKEW_MS = 5 * 60 * 1000;
const AMZ_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
export const INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid.";
const SIGNATURE_MISMATCH_MESSAGE =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** An AWS error as a fake answers it: HTTP status, Sender/Receiver, code and message. */
export interface AwsErrorShape {
  status: number;
  type: "Sender" | "Receiver";
  code: string;
  message: string;
}

/** Thrown inside a fake; its handler renders it as AWS's ErrorResponse. */
export class AwsError extends Error {
  readonly shape: AwsErrorShape;
  constructor(status: number, code: string, message: string, type: "Sender" | "Receiver" = "Sender") {
    super(`${code}: ${message}`);
    this.shape = { status, type, code, message };
  }
}

/**
 * XML-escapes element text. Every interpolated value lands in element text (never in an attribute), where
 * only & < > need escaping; quotes stay literal, as in AWS's own messages ("Value 'x' at 'roleArn' ...").
 */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/** ISO 8601 at seconds precision with Z, as STS writes Expiration and IAM CreateDate. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** SigV4 basic format: 20261125T215200Z. */
function amzDate(ms: number): string {
  return isoSeconds(ms).replace(/[-:]/g, "");
}

/** Compares two strings without an early exit on the first differing character. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function xmlResponse(status: number, requestId: string, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } });
}

/** AWS's Query-protocol error body, in the service's namespace. */
export function errorResponse(error: AwsErrorShape, namespace: string): Response {
  const requestId = crypto.randomUUID();
  return xmlResponse(
    error.status,
    requestId,
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code>` +
      `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

/** Query-protocol parameters: the query string, plus a form-encoded POST body (body wins). */
export async function readQueryParams(
  request: Request,
  url: URL,
): Promise<{ params: Map<string, string>; body: string }> {
  // Bytes then UTF-8: workerd warns when .text() meets a form content type.
  const body = request.method === "POST" ? new TextDecoder().decode(await request.arrayBuffer()) : "";
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value);
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (request.method === "POST" && contentType === "application/x-www-form-urlencoded") {
    const seen = new Set<string>();
    for (const [name, value] of new URLSearchParams(body)) {
      if (seen.has(name)) continue;
      seen.add(name);
      params.set(name, value);
    }
  }
  return { params, body };
}

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  scopeRegion: string;
  scopeService: string;
  scopeTerminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const algorithm = "AWS4-HMAC-SHA256 ";
  if (!header.startsWith(algorithm)) {
    throw new AwsError(403, "IncompleteSignature", "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is accepted.");
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(algorithm.length).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    throw new AwsError(
      403,
      "IncompleteSignature",
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" "),
    );
  }
  const credential = (fields.get("Credential") ?? "").split("/");
  const [accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator] = credential;
  if (credential.length !== 5 || !accessKeyId || !scopeDate || !scopeRegion || !scopeService || !scopeTerminator) {
    throw new AwsError(
      403,
      "IncompleteSignature",
      "Credential should have 5 slash-separated parts: key/date/region/service/aws4_request.",
    );
  }
  const signature = fields.get("Signature") ?? "";
  if (!/^[0-9a-f]{64}$/.test(signature))
    throw new AwsError(403, "IncompleteSignature", "Signature must be 64 lowercase hex characters.");
  const signedHeaders = (fields.get("SignedHeaders") ?? "").split(";");
  return { accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator, signedHeaders, signature };
}

function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE_PATTERN.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return amzDate(ms) === value ? ms : undefined;
}

/** A secret the fake knows for an access key id: a long-term key, or temporary credentials (token and expiry). */
export interface SigningKey {
  secretAccessKey: string;
  sessionToken: string | undefined;
  expiresAtMs: number | undefined;
}

export interface VerifySigV4Options {
  /** The service the credential scope must name (`sts`, `iam`). */
  service: string;
  /** The region the credential scope must name. */
  region: string;
  nowMs: number;
  lookupKey(accessKeyId: string): SigningKey | undefined;
  /** The SHA-256/HMAC primitive AWS's signer verifies with; default @aws-crypto/sha256-js. */
  sha256?: ChecksumConstructor;
}

/**
 * Verifies a request's SigV4 Authorization header the way AWS does: scope (date, region, service, terminator),
 * clock skew, the key and its session token, the declared payload hash, then the signature recomputed by AWS's signer
 * over the same method, URL, signed headers and body. Returns the access key id; throws AwsError otherwise.
 */
export async function verifySigV4(
  request: Request,
  url: URL,
  body: string,
  options: VerifySigV4Options,
): Promise<string> {
  const authorization = request.headers.get("authorization");
  if (authorization === null)
    throw new AwsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
  const auth = parseAuthorization(authorization);

  const dateHeader = request.headers.get("x-amz-date");
  if (dateHeader === null) {
    throw new AwsError(
      403,
      "IncompleteSignature",
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const signedAtMs = parseAmzDate(dateHeader);
  if (signedAtMs === undefined) {
    throw new AwsError(
      403,
      "IncompleteSignature",
      "X-Amz-Date must be in ISO-8601 basic format: yyyyMMdd'T'HHmmss'Z'.",
    );
  }
  for (const required of ["host", "x-amz-date"]) {
    if (!auth.signedHeaders.includes(required)) {
      throw new AwsError(
        403,
        "IncompleteSignature",
        `'${required}' must be a 'SignedHeader' in the AWS Authorization.`,
      );
    }
  }
  if (auth.scopeDate !== dateHeader.slice(0, 8)) {
    throw new AwsError(
      403,
      "SignatureDoesNotMatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${dateHeader.slice(0, 8)}'`,
    );
  }
  if (auth.scopeTerminator !== "aws4_request") {
    throw new AwsError(
      403,
      "SignatureDoesNotMatch",
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.scopeTerminator}'.`,
    );
  }
  if (auth.scopeService !== options.service)
    throw new AwsError(
      403,
      "SignatureDoesNotMatch",
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  if (auth.scopeRegion !== options.region)
    throw new AwsError(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.");

  const nowMs = options.nowMs;
  if (signedAtMs < nowMs - SIGV4_MAX_SKEW_MS) {
    throw new AwsError(
      403,
      "SignatureDoesNotMatch",
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(nowMs - SIGV4_MAX_SKEW_MS)} (${amzDate(nowMs)} - 5 min.)`,
    );
  }
  if (signedAtMs > nowMs + SIGV4_MAX_SKEW_MS) {
    throw new AwsError(
      403,
      "SignatureDoesNotMatch",
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(nowMs + SIGV4_MAX_SKEW_MS)} (${amzDate(nowMs)} + 5 min.)`,
    );
  }

  const key = options.lookupKey(auth.accessKeyId);
  if (key === undefined) throw new AwsError(403, "InvalidClientTokenId", INVALID_TOKEN_MESSAGE);
  const presentedToken = request.headers.get("x-amz-security-token");
  if (
    key.sessionToken === undefined
      ? presentedToken !== null
      : presentedToken === null || !constantTimeEqual(presentedToken, key.sessionToken)
  ) {
    throw new AwsError(403, "InvalidClientTokenId", INVALID_TOKEN_MESSAGE);
  }
  if (key.expiresAtMs !== undefined && nowMs >= key.expiresAtMs) {
    throw new AwsError(403, "ExpiredToken", "The security token included in the request is expired");
  }

  // A declared payload hash must be the body's: otherwise the signature would not cover the body.
  const declaredHash = request.headers.get("x-amz-content-sha256");
  if (declaredHash !== null && declaredHash !== (await sha256Hex(body))) {
    throw new AwsError(
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  // Recompute with AWS's signer over the same method, URL, signed headers and body. The signer sets
  // x-amz-date itself from signingDate and x-amz-security-token from the credentials, so pass the token
  // only when the client signed it (an unsigned token header is allowed, as on AWS).
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    if (name === "x-amz-date" || name === "x-amz-security-token") continue;
    const value = name === "host" ? (request.headers.get("host") ?? url.host) : request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const query: QueryParameterBag = {};
  for (const [name, value] of url.searchParams) {
    const existing = query[name];
    query[name] =
      existing === undefined || existing === null
        ? value
        : Array.isArray(existing)
          ? [...existing, value]
          : [existing, value];
  }
  const toSign: HttpRequest = {
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === "" ? {} : { port: Number(url.port) }),
    path: url.pathname,
    query,
    headers,
    body,
  };
  const signer = new SignatureV4({
    service: auth.scopeService,
    region: auth.scopeRegion,
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(auth.signedHeaders.includes("x-amz-security-token") && presentedToken !== null
        ? { sessionToken: presentedToken }
        : {}),
    },
    sha256: options.sha256 ?? Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(toSign, {
    signingDate: new Date(signedAtMs),
    signableHeaders: new Set(auth.signedHeaders),
  });
  const expected = /SignedHeaders=([^,]*), Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ""));
  const sameHeaders = expected !== null && expected[1] === auth.signedHeaders.join(";");
  const sameSignature = expected !== null && constantTimeEqual(expected[2] ?? "", auth.signature);
  if (!(sameHeaders && sameSignature)) throw new AwsError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MESSAGE);
  return auth.accessKeyId;
}
