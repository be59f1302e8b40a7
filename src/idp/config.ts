// The web-identity settings of the Worker env: STS_AUTH, BROKER_ISSUER_URL, BROKER_SIGNING_KEY(_NEXT).
// Pure; no I/O. Keys are checked for shape here (sync, at config time); their import happens once in signing-keys.ts.
import * as z from "zod/mini";
import { isHttpsOrLoopback } from "../http/trusted-url.ts";

export const STS_AUTH_MODES = ["sigv4", "web-identity"] as const;
export type StsAuthMode = (typeof STS_AUTH_MODES)[number];

export interface WebIdentityOptions {
  /** `iss` of the tokens the broker mints: its public origin, no trailing slash (the discovery URL is built on it). */
  issuerUrl: string;
  /** Secret BROKER_SIGNING_KEY: private JWK (JSON) or PKCS#8 PEM, RS256 or ES256. Signs every token. */
  signingKey: string;
  /** Secret BROKER_SIGNING_KEY_NEXT: published beside the current key, never signs, so a rotation has no gap. */
  nextSigningKey: string | undefined;
}

const PKCS8_PEM = /^\s*-----BEGIN PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+-----END PRIVATE KEY-----\s*$/;

/** A private JWK (an object with `kty` and `d`) or a PKCS#8 PEM block; anything else is refused before any import. */
export function looksLikePrivateKey(text: string): boolean {
  if (PKCS8_PEM.test(text)) return true;
  try {
    const jwk = JSON.parse(text) as unknown;
    return (
      typeof jwk === "object" &&
      jwk !== null &&
      !Array.isArray(jwk) &&
      typeof (jwk as { kty?: unknown }).kty === "string" &&
      typeof (jwk as { d?: unknown }).d === "string"
    );
  } catch {
    return false;
  }
}

/**
 * The issuer URL AWS will be told about: https (http only on loopback, for the sandbox), no credentials, query,
 * fragment or path. AWS's OIDC provider URL "must begin with https://" and names the discovery document at
 * `<issuer>/.well-known/openid-configuration` (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html);
 * the broker serves that document at its root, so a path could never resolve.
 */
export function isIssuerOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (
    isHttpsOrLoopback(url) &&
    url.username === "" &&
    url.password === "" &&
    url.search === "" &&
    url.hash === "" &&
    url.pathname === "/" &&
    !text.endsWith("/") &&
    url.origin === text
  );
}

const blankToUndefined = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

/** Fields merged into the broker's env schema (src/config.ts); each is optional there, required by mode below. */
export const WebIdentityEnvShape = {
  STS_AUTH: z.optional(z.enum(STS_AUTH_MODES)),
  BROKER_ISSUER_URL: z.optional(z.string().check(z.refine((value) => value.trim() === "" || isIssuerOrigin(value)))),
  BROKER_SIGNING_KEY: z.optional(
    z.string().check(z.refine((value) => value.trim() === "" || looksLikePrivateKey(value))),
  ),
  BROKER_SIGNING_KEY_NEXT: z.optional(
    z.string().check(z.refine((value) => value.trim() === "" || looksLikePrivateKey(value))),
  ),
};

/** The options of web-identity mode, or the names of the missing settings. */
export function webIdentityOptions(vars: {
  BROKER_ISSUER_URL?: string | undefined;
  BROKER_SIGNING_KEY?: string | undefined;
  BROKER_SIGNING_KEY_NEXT?: string | undefined;
}): WebIdentityOptions | { missing: string[] } {
  const issuerUrl = blankToUndefined(vars.BROKER_ISSUER_URL);
  const signingKey = blankToUndefined(vars.BROKER_SIGNING_KEY);
  if (issuerUrl === undefined || signingKey === undefined) {
    return {
      missing: [
        ...(issuerUrl === undefined ? ["BROKER_ISSUER_URL"] : []),
        ...(signingKey === undefined ? ["BROKER_SIGNING_KEY"] : []),
      ],
    };
  }
  return { issuerUrl, signingKey, nextSigningKey: blankToUndefined(vars.BROKER_SIGNING_KEY_NEXT) };
}
