// Parses POST /v1/credentials into a CredentialRequest: where the token is, which role, how long.
// Pure; no I/O. Every failure is `invalid_request` (400) or `unsupported_media_type` (415) with a stable reason.
import * as z from "zod/mini";
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from "./constants.ts";
import { BrokerError } from "../errors.ts";
import { parseStrictJson } from "./strict-json.ts";

export interface CredentialRequest {
  token: string;
  role: string | undefined;
  durationSeconds: number | undefined;
}

export interface RawCredentialRequest {
  authorization: string | null;
  contentType: string | null;
  body: Uint8Array;
}

/** Role aliases and GitHub token grant names (src/policy/roles.ts ALIAS_PATTERN). */
export const GRANT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const BodySchema = z.strictObject({
  token: z.optional(z.string()),
  role: z.optional(z.string().check(z.regex(GRANT_NAME_PATTERN))),
  duration_seconds: z.optional(z.int().check(z.minimum(STS_MIN_DURATION_SECONDS), z.maximum(STS_MAX_DURATION_SECONDS))),
});

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** `application/json`, optionally with `charset=utf-8`; nothing else (RFC 8259 §8.1: JSON is UTF-8). */
function isJsonContentType(value: string): boolean {
  const [type, ...params] = value.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => param === "" || param === "charset=utf-8" || param === 'charset="utf-8"');
}

function bearerToken(authorization: string): string {
  // RFC 6750 §2.1: "Bearer" scheme, case-insensitive, one space, then the token.
  const match = /^bearer ([^\s]+)$/i.exec(authorization.trim());
  if (match === null) throw new BrokerError("invalid_request", "authorization_malformed");
  return match[1] as string;
}

/**
 * The token (Bearer header or body `token`, not both) and the body as `schema` reads it; an empty body is read as
 * `empty` (undefined: the body is required).
 */
export function parseTokenRequest<B extends { token?: string | undefined }>(
  raw: RawCredentialRequest,
  schema: z.ZodMiniType<B>,
  empty: B | undefined,
): { token: string; body: B } {
  const headerToken = raw.authorization === null ? undefined : bearerToken(raw.authorization);
  let body: B;
  if (raw.body.byteLength > 0) {
    if (raw.contentType === null || !isJsonContentType(raw.contentType)) {
      throw new BrokerError("unsupported_media_type", "content_type_not_json");
    }
    let text: string;
    try {
      text = utf8.decode(raw.body);
    } catch {
      throw new BrokerError("invalid_request", "body_not_utf8");
    }
    const parsed = parseStrictJson(text);
    if (!parsed.ok) throw new BrokerError("invalid_request", parsed.reason);
    const result = z.safeParse(schema, parsed.value);
    if (!result.success) throw new BrokerError("invalid_request", "body_invalid");
    body = result.data;
  } else {
    if (raw.contentType !== null && !isJsonContentType(raw.contentType))
      throw new BrokerError("unsupported_media_type", "content_type_not_json");
    if (empty === undefined) throw new BrokerError("invalid_request", "body_invalid");
    body = empty;
  }
  if (headerToken !== undefined && body.token !== undefined)
    throw new BrokerError("invalid_request", "token_in_header_and_body");
  const token = headerToken ?? body.token;
  if (token === undefined || token === "") throw new BrokerError("invalid_request", "token_missing");
  return { token, body };
}

export function parseCredentialRequest(raw: RawCredentialRequest): CredentialRequest {
  const { token, body } = parseTokenRequest(raw, BodySchema, {});
  return { token, role: body.role, durationSeconds: body.duration_seconds };
}
