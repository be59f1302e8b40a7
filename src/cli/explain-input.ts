// What `policy:explain` reads: a decoded token payload (JSON) or the token itself (a JWT, e.g. `npm run -s token |
// npm run -s policy:explain -- -`). A token's payload is decoded WITHOUT verifying anything: explain answers "what would
// the policy decide for these claims", and says so. Pure; no I/O.
import { decodeJwt } from "jose";

export interface ExplainInput {
  claims: unknown;
  /** The claims came from a JWT whose signature, issuer, audience and times were not checked. */
  fromToken: boolean;
}

/** Three base64url segments: the shape of a JWS in compact serialisation. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The printed warning for claims taken from a token (first line of the output). */
export const UNVERIFIED_TOKEN_NOTE =
  "NOTE   claims decoded from a token WITHOUT verifying it (signature, issuer, audience, expiry): the broker checks those before the policy";

/** Parses the input text; a string is the error to print. */
export function parseExplainInput(text: string): ExplainInput | string {
  const trimmed = text.trim();
  if (COMPACT_JWS.test(trimmed)) {
    try {
      return { claims: decodeJwt(trimmed), fromToken: true };
    } catch {
      return "the input looks like a token but its payload is not a base64url-encoded JSON object";
    }
  }
  try {
    return { claims: JSON.parse(trimmed), fromToken: false };
  } catch (error) {
    return `the input is neither a token nor JSON claims: ${error instanceof Error ? error.message : String(error)}`;
  }
}
