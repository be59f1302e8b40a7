// AssumeRoleWithWebIdentity for the STS emulator (./sts-emulator.ts), the way AWS documents it for an IAM OIDC
// provider: the token's `iss` must be a registered provider and its `aud` one of the provider's client ids; AWS
// fetches `<iss>/.well-known/openid-configuration`, then its `jwks_uri`, verifies the signature against a published
// key and checks `exp`; session tags come from the `https://aws.amazon.com/tags` claim and the source identity from
// `https://aws.amazon.com/source_identity`. Platform-neutral; the fetch is injected (the fake network, or the real
// one in the sandbox, where the broker runs on loopback).
// References: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp.
// As in the emulator, AWS's limits are declared here, independent of the broker's constants.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from "jose";

/** An IAM OIDC provider: its URL (the issuer) and its client ids (accepted audiences). */
export interface OidcProviderRegistration {
  url: string;
  clientIds: string[];
}

export interface WebIdentityEmulatorOptions {
  providers: OidcProviderRegistration[];
  /** How AWS reaches the provider: discovery and JWKS are fetched through it. */
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
}

/** What AWS takes from a valid token. */
export interface VerifiedWebIdentity {
  issuer: string;
  /** Provider as AWS names it in the response and in condition keys: the issuer without `https://`. */
  provider: string;
  subject: string;
  audience: string;
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
  sourceIdentity: string | undefined;
}

/** An AWS-shaped refusal; the emulator renders it as an ErrorResponse. */
export class WebIdentityRejection extends Error {
  readonly status: number;
  readonly code: string;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** WebIdentityToken length bounds (API reference). */
const MIN_TOKEN_CHARS = 4;
const MAX_TOKEN_CHARS = 20_000;
/** SubjectFromWebIdentityToken length bounds. */
const MIN_SUBJECT_CHARS = 6;
const MAX_SUBJECT_CHARS = 255;
/** Algorithms AWS accepts from an OIDC provider's JWKS. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];
const TAGS_CLAIM = "https://aws.amazon.com/tags";
const SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity";
const KEY_RETRIEVAL_MESSAGE =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

const invalidToken = (message: string) => new WebIdentityRejection("InvalidIdentityToken", message);
const idpUnreachable = () => new WebIdentityRejection("IDPCommunicationError", KEY_RETRIEVAL_MESSAGE);

async function fetchJson(fetchFn: WebIdentityEmulatorOptions["fetch"], url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(url, { redirect: "manual" });
  } catch {
    throw idpUnreachable();
  }
  if (response.status !== 200) throw idpUnreachable();
  try {
    return (await response.json()) as unknown;
  } catch {
    throw idpUnreachable();
  }
}

/** The provider's published keys, through its discovery document (which must name the same issuer). */
async function providerKeys(options: WebIdentityEmulatorOptions, issuer: string): Promise<JSONWebKeySet> {
  const discovery = await fetchJson(options.fetch, `${issuer}/.well-known/openid-configuration`);
  const document = (typeof discovery === "object" && discovery !== null ? discovery : {}) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  };
  if (document.issuer !== issuer || typeof document.jwks_uri !== "string") throw idpUnreachable();
  const jwks = await fetchJson(options.fetch, document.jwks_uri);
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys))
    throw idpUnreachable();
  return jwks as JSONWebKeySet;
}

/** `principal_tags` (each value an array of strings; AWS uses the first) and `transitive_tag_keys`. */
function readTags(claim: unknown): { tags: Array<{ key: string; value: string }>; transitiveTagKeys: string[] } {
  if (claim === undefined) return { tags: [], transitiveTagKeys: [] };
  if (typeof claim !== "object" || claim === null || Array.isArray(claim))
    throw invalidToken("The tags claim in the web identity token is malformed.");
  const { principal_tags: principal, transitive_tag_keys: transitive } = claim as {
    principal_tags?: unknown;
    transitive_tag_keys?: unknown;
  };
  const tags: Array<{ key: string; value: string }> = [];
  if (principal !== undefined) {
    if (typeof principal !== "object" || principal === null || Array.isArray(principal))
      throw invalidToken("principal_tags must be an object.");
    for (const [key, values] of Object.entries(principal)) {
      if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== "string")
        throw invalidToken(`principal_tags.${key} must be an array of one string.`);
      tags.push({ key, value: values[0] });
    }
  }
  if (transitive !== undefined && (!Array.isArray(transitive) || transitive.some((key) => typeof key !== "string"))) {
    throw invalidToken("transitive_tag_keys must be an array of strings.");
  }
  return { tags, transitiveTagKeys: (transitive ?? []) as string[] };
}

/** Verifies a WebIdentityToken as AWS does; throws WebIdentityRejection with AWS's error codes. */
export async function verifyWebIdentityToken(
  token: string | undefined,
  options: WebIdentityEmulatorOptions | undefined,
  nowMs: number,
): Promise<VerifiedWebIdentity> {
  if (token === undefined)
    throw new WebIdentityRejection("MissingParameter", "The request must contain the parameter WebIdentityToken");
  if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS) {
    throw new WebIdentityRejection(
      "ValidationError",
      `1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between ${MIN_TOKEN_CHARS} and ${MAX_TOKEN_CHARS}`,
    );
  }
  let unverified: { iss?: unknown; aud?: unknown };
  try {
    decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw invalidToken("The web identity token that was passed could not be validated by AWS.");
  }
  const issuer = typeof unverified.iss === "string" ? unverified.iss : "";
  const registration = options?.providers.find((provider) => provider.url === issuer);
  if (registration === undefined || options === undefined)
    throw invalidToken(`No OpenIDConnect provider found in your account for ${issuer}`);
  const audiences = Array.isArray(unverified.aud) ? unverified.aud : [unverified.aud];
  const audience = audiences.find(
    (aud): aud is string => typeof aud === "string" && registration.clientIds.includes(aud),
  );
  if (audience === undefined) throw invalidToken("Incorrect token audience");

  const keys = await providerKeys(options, issuer);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(keys), {
      issuer,
      audience,
      algorithms: ALGORITHMS,
      currentDate: new Date(nowMs),
      requiredClaims: ["exp", "sub"],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      const exp =
        typeof (unverified as { exp?: unknown }).exp === "number"
          ? new Date((unverified as { exp: number }).exp * 1000).toISOString()
          : "unknown";
      throw new WebIdentityRejection(
        "ExpiredTokenException",
        `Token expired: current date/time ${new Date(nowMs).toISOString()} must be before the expiration date/time ${exp}`,
      );
    }
    if (error instanceof errors.JWKSNoMatchingKey)
      throw invalidToken("The key id in the token does not match any key published by the provider.");
    throw invalidToken("The web identity token that was passed could not be validated by AWS.");
  }
  const subject = typeof payload.sub === "string" ? payload.sub : "";
  const subjectChars = [...subject].length;
  if (subjectChars < MIN_SUBJECT_CHARS || subjectChars > MAX_SUBJECT_CHARS)
    throw invalidToken("The sub claim is not valid.");
  const { tags, transitiveTagKeys } = readTags(payload[TAGS_CLAIM]);
  const sourceIdentity = payload[SOURCE_IDENTITY_CLAIM];
  if (sourceIdentity !== undefined && typeof sourceIdentity !== "string")
    throw invalidToken("The source identity claim must be a string.");
  return {
    issuer,
    provider: issuer.replace(/^https?:\/\//, ""),
    subject,
    audience,
    tags,
    transitiveTagKeys,
    sourceIdentity,
  };
}

/**
 * The query parameters the emulator's AssumeRole validation reads, for a web-identity call: the request's own
 * (RoleArn, RoleSessionName, DurationSeconds, Policy, PolicyArns) plus the tags and source identity from the token.
 * Tags, TransitiveTagKeys, SourceIdentity and ExternalId are not parameters of this action; any sent are ignored.
 */
export function webIdentityParams(params: Map<string, string>, verified: VerifiedWebIdentity): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of params) {
    if (
      /^(Tags|TransitiveTagKeys)\./.test(name) ||
      name === "SourceIdentity" ||
      name === "ExternalId" ||
      name === "WebIdentityToken"
    )
      continue;
    out.set(name, value);
  }
  verified.tags.forEach((tag, index) => {
    out.set(`Tags.member.${index + 1}.Key`, tag.key);
    out.set(`Tags.member.${index + 1}.Value`, tag.value);
  });
  for (const [index, key] of verified.transitiveTagKeys.entries())
    out.set(`TransitiveTagKeys.member.${index + 1}`, key);
  if (verified.sourceIdentity !== undefined) out.set("SourceIdentity", verified.sourceIdentity);
  return out;
}
