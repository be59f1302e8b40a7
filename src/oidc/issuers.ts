// Trusted issuer configuration: what an operator writes in the ISSUERS variable, validated by zod.
// Pure; no I/O. The JWKS location comes from here (or the issuer's discovery document), never from a token.
import * as z from "zod/mini";
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_JWKS_MAX_STALE_SECONDS,
  DEFAULT_MAX_TOKEN_AGE_SECONDS,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  MAX_CLOCK_TOLERANCE_SECONDS,
} from "./constants.ts";
import { isHttpsOrLoopback } from "../http/trusted-url.ts";
import { ISSUER_KINDS, platformOf, type IssuerKind } from "../platforms/index.ts";

/** Algorithms we can ever accept. Symmetric algorithms and `none` are never on this list. */
export const SUPPORTED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

function isSupportedAlgorithm(name: string): name is SupportedAlgorithm {
  return (SUPPORTED_ALGORITHMS as readonly string[]).includes(name);
}

/** The platform's default algorithms (platforms' tests hold each to SUPPORTED_ALGORITHMS). */
function defaultAlgorithms(kind: IssuerKind): SupportedAlgorithm[] {
  return platformOf(kind).defaultAlgorithms.filter(isSupportedAlgorithm);
}

const trustedUrl = z.string().check(
  z.refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return isHttpsOrLoopback(url) && url.username === "" && url.password === "" && url.hash === "";
  }, "must be an https URL (http only on loopback) without credentials or fragment"),
);

const seconds = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

export const IssuerConfigSchema = z.strictObject({
  /** Name rules use to refer to this issuer; defaults to the kind. */
  id: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,31}$/))),
  kind: z.enum(ISSUER_KINDS),
  /** Exact `iss` string: compared byte for byte (no trailing-slash or case folding). */
  issuer: trustedUrl.check(z.refine((value) => !value.endsWith("/"), "must not end with a slash")),
  /** Accepted `aud` values. Required: GitHub's default audience must never be accepted implicitly. */
  audiences: z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.minLength(1), z.maxLength(10)),
  /** JWKS URL. Without it, the issuer's /.well-known/openid-configuration names it. */
  jwks_uri: z.optional(trustedUrl),
  algorithms: z.optional(z.array(z.enum(SUPPORTED_ALGORITHMS)).check(z.minLength(1))),
  clock_tolerance_seconds: z.optional(seconds(0, MAX_CLOCK_TOLERANCE_SECONDS)),
  max_token_age_seconds: z.optional(seconds(60, 24 * 60 * 60)),
  max_token_lifetime_seconds: z.optional(seconds(60, 24 * 60 * 60)),
  jwks_max_stale_seconds: z.optional(seconds(0, 7 * 24 * 60 * 60)),
  /** GitHub REST API base for rule requirements (docs/github-facts.md); derived for github.com, GHE.com and GHES. */
  api_url: z.optional(
    trustedUrl.check(
      z.refine(
        (value) => !value.endsWith("/") && new URL(value).search === "",
        "must not end with a slash or carry a query",
      ),
    ),
  ),
});

/** One trusted issuer, defaults applied. */
export interface IssuerConfig {
  id: string;
  kind: IssuerKind;
  issuer: string;
  audiences: string[];
  jwksUri: string | undefined;
  algorithms: SupportedAlgorithm[];
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number;
  maxTokenLifetimeSeconds: number;
  jwksMaxStaleSeconds: number;
  /**
   * GitHub REST API base (platforms on GitHub only): `api_url`, else derived from the issuer URL; undefined when
   * unknown.
   */
  apiUrl?: string | undefined;
}

/** The GitHub REST API of an issuer whose platform lives on GitHub (platform.ts, `githubApi`); else undefined. */
function githubApiUrl(kind: IssuerKind, issuer: string, configured: string | undefined): string | undefined {
  const api = platformOf(kind).githubApi;
  return api === undefined ? undefined : (configured ?? api.defaultUrl(issuer));
}

export const IssuerListSchema = z.pipe(
  z.array(IssuerConfigSchema).check(z.minLength(1), z.maxLength(20)),
  z.transform((list, ctx): IssuerConfig[] => {
    const issuers = list.map((entry) => ({
      id: entry.id ?? entry.kind,
      kind: entry.kind,
      issuer: entry.issuer,
      audiences: entry.audiences,
      jwksUri: entry.jwks_uri,
      algorithms: entry.algorithms ?? defaultAlgorithms(entry.kind),
      clockToleranceSeconds: entry.clock_tolerance_seconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
      maxTokenAgeSeconds: entry.max_token_age_seconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS,
      maxTokenLifetimeSeconds: entry.max_token_lifetime_seconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
      jwksMaxStaleSeconds: entry.jwks_max_stale_seconds ?? DEFAULT_JWKS_MAX_STALE_SECONDS,
      apiUrl: githubApiUrl(entry.kind, entry.issuer, entry.api_url),
    }));
    const seenIds = new Set<string>();
    const seenIssuers = new Set<string>();
    for (const [index, entry] of list.entries()) {
      if (platformOf(entry.kind).githubApi === undefined && entry.api_url !== undefined)
        ctx.issues.push({
          code: "custom",
          path: [index, "api_url"],
          message: "api_url is for github issuers",
          input: list,
        });
    }
    for (const [index, issuer] of issuers.entries()) {
      if (seenIds.has(issuer.id))
        ctx.issues.push({ code: "custom", path: [index, "id"], message: "duplicate issuer id", input: list });
      if (seenIssuers.has(issuer.issuer))
        ctx.issues.push({ code: "custom", path: [index, "issuer"], message: "duplicate issuer", input: list });
      seenIds.add(issuer.id);
      seenIssuers.add(issuer.issuer);
    }
    return issuers;
  }),
);
