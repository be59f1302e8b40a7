// Verifies a CI OIDC token: shape, exact issuer match, jose signature and registered-claim checks, then the
// issuer kind's claim schema. I/O only through the injected JwksCache; time from the injected clock.
import { jwtVerify, type JWTPayload } from "jose";
import * as errors from "jose/errors";
import { MAX_JTI_CHARS } from "./constants.ts";
import type { Clock } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import { parseClaims, type Claims } from "./claims.ts";
import type { IssuerConfig } from "./issuers.ts";
import type { JwksCache } from "./jwks-cache.ts";
import { decodeUnverified, type ShapedToken } from "./token-shape.ts";

export interface VerifiedToken {
  issuer: IssuerConfig;
  claims: Claims;
  jti: string;
  iat: number;
  exp: number;
  nbf: number | undefined;
}

export interface VerifyOptions {
  issuers: IssuerConfig[];
  jwks: JwksCache;
  now: Clock;
}

/**
 * Header parameters that point at key material chosen by the token's author (RFC 7515 §4.1.2-4.1.6).
 * Trusting them lets anyone sign with their own key, so their mere presence rejects the token, before any fetch.
 * (`x5t`, a thumbprint, is harmless and GitHub sends it.)
 */
const FORBIDDEN_HEADERS = ["jku", "jwk", "x5u", "x5c", "crit"] as const;

/**
 * Throws `invalid_token` with a stable reason, or `upstream_unavailable` from the key cache (passed through).
 * The caller checked the shape (`checkTokenShape`), cheaply and before any limit that costs a round trip.
 */
export async function verifyToken(token: ShapedToken, options: VerifyOptions): Promise<VerifiedToken> {
  const { header, payload: unverified } = decodeUnverified(token);
  if (FORBIDDEN_HEADERS.some((name) => Object.hasOwn(header, name)))
    throw new BrokerError("invalid_token", "header_forbidden");
  if (header.kid !== undefined && typeof header.kid !== "string")
    throw new BrokerError("invalid_token", "token_malformed");

  // Byte-for-byte match: no case or trailing-slash folding (OIDC Core 1.0 §3.1.3.7 step 2: "MUST exactly match").
  const iss = unverified.iss;
  const issuer = typeof iss === "string" ? options.issuers.find((candidate) => candidate.issuer === iss) : undefined;
  if (issuer === undefined) throw new BrokerError("invalid_token", "issuer_unknown");

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (protectedHeader) => options.jwks.getKey(issuer, { alg: protectedHeader.alg, kid: protectedHeader.kid }),
      {
        issuer: issuer.issuer,
        audience: issuer.audiences,
        algorithms: issuer.algorithms,
        typ: "JWT",
        clockTolerance: issuer.clockToleranceSeconds,
        maxTokenAge: issuer.maxTokenAgeSeconds,
        requiredClaims: ["exp", "iat", "jti"],
        currentDate: new Date(options.now()),
      },
    ));
  } catch (error) {
    throw toBrokerError(error);
  }

  // jose accepts an array `aud` that merely contains one of ours (RFC 7519 §4.1.3 allows arrays). GitHub and GitLab
  // always send one string: a token minted for several audiences at once is not theirs, so it is refused.
  if (typeof payload.aud !== "string") throw new BrokerError("invalid_token", "audience_not_string");

  // jose accepts any finite number as a NumericDate; RFC 7519 §2 allows fractions, but issuers send integers
  // and anything else is a forged or broken token.
  const { exp, iat, nbf, jti } = payload;
  if (!Number.isSafeInteger(exp) || !Number.isSafeInteger(iat) || (nbf !== undefined && !Number.isSafeInteger(nbf))) {
    throw new BrokerError("invalid_token", "claims_invalid");
  }
  const expSeconds = exp as number;
  const iatSeconds = iat as number;
  if (expSeconds <= iatSeconds) throw new BrokerError("invalid_token", "claims_invalid");
  if (expSeconds - iatSeconds > issuer.maxTokenLifetimeSeconds)
    throw new BrokerError("invalid_token", "lifetime_too_long");
  // The jti keys single-use admission: it must be a bounded non-empty string.
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_CHARS)
    throw new BrokerError("invalid_token", "claims_invalid");

  const claims = parseClaims(issuer.kind, payload);
  return { issuer, claims, jti, iat: iatSeconds, exp: expSeconds, nbf };
}

/** Maps a jose failure to a stable reason by its `code` and `claim` (never by message text). */
export function toBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error; // from the key resolver: kid_unknown, jwks_unavailable, ...
  if (!(error instanceof errors.JOSEError)) {
    // jose throws TypeError only for misuse (bad options or key types): our bug, not the token's.
    return new BrokerError("internal_error", "token_verification_error", { cause: error });
  }
  const reason = joseReason(error);
  return new BrokerError("invalid_token", reason, { cause: { code: error.code } });
}

function joseReason(error: errors.JOSEError): string {
  switch (error.code) {
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "alg_not_allowed";
    case "ERR_JOSE_NOT_SUPPORTED":
      // An unrecognised `crit` extension (RFC 7515 §4.1.11) or an unsupported algorithm.
      return "header_forbidden";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature_invalid";
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "kid_unknown";
    case "ERR_JWT_EXPIRED":
      // jose raises JWTExpired for `exp` in the past and for `iat` older than maxTokenAge.
      return (error as errors.JWTExpired).claim === "iat" ? "token_too_old" : "token_expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claimReason(error as errors.JWTClaimValidationFailed);
    default:
      // ERR_JWS_INVALID, ERR_JWT_INVALID (not JSON, unencoded payload, ...), anything new.
      return "token_malformed";
  }
}

function claimReason(error: errors.JWTClaimValidationFailed): string {
  if (error.reason === "missing") return "claim_missing";
  switch (error.claim) {
    case "typ":
      return "typ_invalid";
    case "iss":
      return "issuer_unknown";
    case "aud":
      return "audience_mismatch";
    case "nbf":
    case "iat":
      // "check_failed": not yet valid (`nbf` ahead, or `iat` in the future); "invalid": not a number.
      return error.reason === "check_failed" ? "token_not_yet_valid" : "claims_invalid";
    default:
      return "claims_invalid";
  }
}
