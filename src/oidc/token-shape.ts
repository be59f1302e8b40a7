// Structural checks on a compact JWS before any cryptography: size cap, three base64url segments,
// and unverified decoding of header/payload JSON (only to pick an issuer config). Pure; no I/O; no clock.
import { base64url } from "jose";
import { MAX_TOKEN_BYTES } from "./constants.ts";
import { BrokerError } from "../errors.ts";

/**
 * Three non-empty base64url segments without padding (RFC 7515 §7.1 compact serialization,
 * RFC 7515 §2 "Base64url Encoding" with all trailing '=' omitted). A JWE (five segments) never matches.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A token that passed `checkTokenShape`. `verifyToken` takes only this type, so the shape is checked exactly once,
 * by whoever runs first (the exchange does it before the address limit), and can never be skipped.
 */
export type ShapedToken = string & { readonly __shape: "compact-jws" };

/** Throws `invalid_token` (`token_too_large` | `token_malformed`) unless `token` is a plausible compact JWS. */
export function checkTokenShape(token: string): ShapedToken {
  // UTF-8 length >= UTF-16 length, so the cheap check first spares encoding a huge string.
  if (token.length > MAX_TOKEN_BYTES) throw new BrokerError("invalid_token", "token_too_large");
  if (!COMPACT_JWS.test(token)) {
    // Only a token outside the (ASCII) alphabet can be longer in UTF-8 than in UTF-16: too large still comes first.
    if (utf8.encode(token).byteLength > MAX_TOKEN_BYTES) throw new BrokerError("invalid_token", "token_too_large");
    throw new BrokerError("invalid_token", "token_malformed");
  }
  // A base64url segment of length 4n+1 cannot encode whole bytes (RFC 4648 §5).
  for (const segment of token.split(".")) {
    if (segment.length % 4 === 1) throw new BrokerError("invalid_token", "token_malformed");
  }
  return token as ShapedToken;
}

/**
 * Decodes one segment as a JSON object, without verifying anything. Throws `token_malformed` if the
 * segment is not base64url of UTF-8 JSON whose top level is an object.
 */
export function decodeSegmentJson(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(base64url.decode(segment)));
  } catch {
    throw new BrokerError("invalid_token", "token_malformed");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BrokerError("invalid_token", "token_malformed");
  }
  return value as Record<string, unknown>;
}

/** The unverified protected header and payload of a token that passed `checkTokenShape`. */
export function decodeUnverified(token: ShapedToken): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header = "", payload = ""] = token.split(".");
  return { header: decodeSegmentJson(header), payload: decodeSegmentJson(payload) };
}

/**
 * The payload's `iss`, decoded WITHOUT verification: used only to choose which issuer config (and so
 * which keys) to verify against. Undefined when the token is malformed or `iss` is not a string.
 */
export function peekIssuer(token: string): string | undefined {
  try {
    const iss = decodeUnverified(checkTokenShape(token)).payload.iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}
