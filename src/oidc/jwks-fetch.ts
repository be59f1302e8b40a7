// Fetches an issuer's key set over HTTPS: OIDC discovery when no JWKS URL is configured, then the JWKS itself.
// I/O only through the injected fetch; no clock. Failures are JwksFetchError with a fixed reason, never a body.
import { JWKS_FETCH_TIMEOUT_MS, MAX_JWKS_RESPONSE_BYTES } from "./constants.ts";
import type { FetchFn } from "../deps.ts";
import { isLoopbackHttp } from "../http/trusted-url.ts";
import { callUpstream, UpstreamError, type UpstreamErrorKind } from "../http/upstream.ts";
import type { IssuerConfig } from "./issuers.ts";
import { isPlainObject, parseJwks, type PublicJwk } from "./jwks-keys.ts";

/** A JWKS or discovery fetch failed; `reason` is a fixed string for the log. Always handled as an outage. */
export class JwksFetchError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = "JwksFetchError";
    this.reason = reason;
  }
}

/** The issuer's current public keys: discovery if needed, then the JWKS. Throws JwksFetchError. */
export async function fetchIssuerKeys(fetchFn: FetchFn, issuer: IssuerConfig): Promise<PublicJwk[]> {
  const jwksUri = issuer.jwksUri ?? (await discoverJwksUri(fetchFn, issuer));
  const keys = parseJwks(await fetchJson(fetchFn, jwksUri));
  if (keys === undefined) throw new JwksFetchError("jwks_invalid");
  return keys;
}

/**
 * OpenID Connect Discovery 1.0 §4: GET `${issuer}/.well-known/openid-configuration`; its `issuer` must equal
 * ours exactly (§4.3) and `jwks_uri` must be https (loopback http only when the issuer itself is).
 */
async function discoverJwksUri(fetchFn: FetchFn, issuer: IssuerConfig): Promise<string> {
  const doc = await fetchJson(fetchFn, `${issuer.issuer}/.well-known/openid-configuration`);
  if (!isPlainObject(doc) || doc.issuer !== issuer.issuer) throw new JwksFetchError("discovery_invalid");
  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) throw new JwksFetchError("discovery_invalid");
  const url = new URL(jwksUri);
  const schemeOk = url.protocol === "https:" || (isLoopbackHttp(url) && isLoopbackHttp(new URL(issuer.issuer)));
  if (!schemeOk || url.username !== "" || url.password !== "") throw new JwksFetchError("discovery_jwks_uri_refused");
  return jwksUri;
}

/** Each failure of the helper as the log's fixed reason. */
const REASON_OF: Record<UpstreamErrorKind, string> = {
  timeout: "timeout",
  budget: "timeout",
  network: "network_error",
  read_failed: "network_error",
  redirect: "redirect",
  status: "http_status",
  too_large: "too_large",
  not_utf8: "invalid_json",
};

/**
 * GET a JSON document: timeout, no redirects, 200 only, body capped while streaming (Content-Length is not trusted).
 */
async function fetchJson(fetchFn: FetchFn, url: string): Promise<unknown> {
  let text: string;
  try {
    ({ text } = await callUpstream(fetchFn, url, {
      headers: { accept: "application/json" },
      timeoutMs: JWKS_FETCH_TIMEOUT_MS,
      maxBytes: MAX_JWKS_RESPONSE_BYTES,
      accept: (status) => status === 200,
    }));
  } catch (error) {
    throw new JwksFetchError(error instanceof UpstreamError ? REASON_OF[error.kind] : "network_error");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new JwksFetchError("invalid_json");
  }
}
