// A fake GitHub-Actions-like OIDC issuer: discovery document, JWKS, key rotation, outages, and token minting
// (including hostile tokens for the attack table). Platform-neutral: WebCrypto and fetch types only (workerd and Node 24).
import { base64url, exportJWK, generateKeyPair, type JWK } from "jose";
import { MAX_JWKS_RESPONSE_BYTES } from "../../src/oidc/constants.ts";

export interface FakeIssuerOptions {
  /** Exact `iss` and discovery base, e.g. `https://issuer-<uuid>.test`. */
  issuer: string;
  /** `aud` of minted tokens. Default "ci-credential-broker". */
  audience?: string;
  /** Path of the JWKS, default GitHub's `/.well-known/jwks`. */
  jwksPath?: string;
  /** Clock (ms) used for `iat`/`nbf`/`exp` of minted tokens. Default Date.now. */
  now?: () => number;
  /** Claims laid over githubClaims() in every minted token, before the mint's own (the sandbox's policy-derived defaults). */
  claims?: Record<string, unknown>;
}

/** How the issuer misbehaves: whole issuer answers 503 / connection fails; or the JWKS is garbage, oversized, redirected. */
export type FailMode = "down" | "network" | "garbage" | "oversized" | "redirect" | null;

export interface MintOptions {
  /** Key to sign with (and the header's kid). Default: the current key. */
  kid?: string;
  /** Header `alg`. The signature still uses the key's own algorithm: for alg-confusion tests. */
  alg?: string;
  /** Extra or overriding header members; `undefined` removes one (e.g. `{ typ: undefined }`). */
  header?: Record<string, unknown>;
  /** Payload claims to remove (e.g. `["jti"]`). */
  omit?: string[];
  /** Time (ms) the token is issued at. Default: the issuer's clock. */
  now?: number;
}

export interface AddKeyOptions {
  /** Key algorithm: RS256 (default), PS256, ES256, ... */
  alg?: string;
  /** RSA modulus length; below 2048 is generated with WebCrypto directly (jose refuses). */
  modulusLength?: number;
  kid?: string;
  /** Extra JWK members as served (e.g. `{ use: "enc" }`, `{ alg: "RS384" }`). */
  jwk?: Record<string, unknown>;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The JWK as served in the JWKS. */
  publicJwk: JWK;
}

export interface FakeIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly discoveryUri: string;
  readonly audience: string;
  /** Serves the discovery document and the JWKS; 404 otherwise. */
  handler: (request: Request) => Promise<Response>;
  /** A GitHub-shaped RS256 token: githubClaims() + the issuer's `claims` + iss/aud/iat/nbf/exp, then `claims` overrides. */
  mint(claims?: Partial<Record<string, unknown>>, options?: MintOptions): Promise<string>;
  /** Signs an arbitrary header and payload with one of the issuer's keys (its own algorithm). */
  sign(header: Record<string, unknown>, payload: Record<string, unknown>, options?: { kid?: string }): Promise<string>;
  /** New key + new kid, served from now on; the old one is dropped from the JWKS. */
  rotate(): Promise<void>;
  /** Adds a served key (not the current signing key); returns its kid. */
  addKey(options?: AddKeyOptions): Promise<string>;
  /** The current signing key, or the one with `kid`. */
  key(kid?: string): SigningKey;
  /** Serve this body as the JWKS instead of the real keys (object -> JSON, string -> raw); null restores. */
  setJwks(body: unknown): void;
  /** Serve this discovery document instead of the default; null restores. */
  setDiscovery(doc: Record<string, unknown> | null): void;
  fail(mode: FailMode): void;
  /** JWKS fetches served (any outcome). */
  readonly fetchCount: number;
  /** Discovery fetches served (any outcome). */
  readonly discoveryCount: number;
}

export const SAMPLE_SHA = "9f2c1e4d7b3a6058c1d2e3f4a5b6c7d8e9f0a1b2";

/** Realistic GitHub Actions claims (push to acme/app main). A fresh `jti` every call. */
export function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: crypto.randomUUID(),
    sub: "repo:acme/app:ref:refs/heads/main",
    ref: "refs/heads/main",
    ref_type: "branch",
    ref_protected: "true",
    sha: SAMPLE_SHA,
    repository: "acme/app",
    repository_id: "874563210",
    repository_owner: "acme",
    repository_owner_id: "51234567",
    repository_visibility: "private",
    run_id: "11122233344",
    run_number: "42",
    run_attempt: "1",
    runner_environment: "github-hosted",
    actor: "octocat",
    actor_id: "583231",
    workflow: "CI",
    workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
    workflow_sha: SAMPLE_SHA,
    job_workflow_ref: "acme/app/.github/workflows/ci.yml@refs/heads/main",
    job_workflow_sha: SAMPLE_SHA,
    head_ref: "",
    base_ref: "",
    event_name: "push",
    ...overrides,
  };
}

// --- Token building blocks (also for hostile tokens) ------------------------------------------

const utf8 = new TextEncoder();

/** base64url(JSON(value)), the encoding of a JWS header or payload segment. */
export function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** A compact token assembled by hand: `alg: none` (empty or junk signature), padding, odd segments. */
export function unsignedToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = "",
): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}

/** WebCrypto parameters producing a JWS signature for `alg` (RFC 7518 §3). */
function signParams(alg: string): Parameters<typeof crypto.subtle.sign>[0] {
  const bits = alg.slice(2);
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5" };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", saltLength: Number(bits) / 8 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: `SHA-${bits}` };
  if (alg.startsWith("HS")) return { name: "HMAC" };
  if (alg === "EdDSA" || alg === "Ed25519") return { name: "Ed25519" };
  throw new TypeError(`fake issuer: cannot sign ${alg}`);
}

/**
 * Signs `header.payload` with `key` using `signAlg` (default: header.alg). The header is taken as given, so
 * the token may claim one alg and be signed with another, or carry jku/jwk/x5u/crit members.
 */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
  signAlg?: string,
): Promise<string> {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const alg = signAlg ?? String(header.alg);
  const signature = await crypto.subtle.sign(signParams(alg), key, utf8.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** An HMAC-signed token (the RS256 -> HS256 confusion attack uses the issuer's public key as `secret`). */
export async function hmacToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Uint8Array,
): Promise<string> {
  const alg = String(header.alg ?? "HS256");
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash: `SHA-${alg.slice(2)}` },
    false,
    ["sign"],
  );
  return signCompact(header, payload, key, alg);
}

/** The PEM (SPKI) text of a public key: what a confused verifier would use as an HMAC secret. */
export async function spkiPem(publicKey: CryptoKey): Promise<string> {
  const der = new Uint8Array((await crypto.subtle.exportKey("spki", publicKey)) as ArrayBuffer);
  const base64 = btoa(Array.from(der, (byte) => String.fromCharCode(byte)).join(""));
  return `-----BEGIN PUBLIC KEY-----\n${base64.replace(/.{64}/g, "$&\n")}\n-----END PUBLIC KEY-----\n`;
}

/** A signing key pair for `alg`, generated now. RSA below 2048 bits goes through WebCrypto directly. */
export async function generateSigningKey(options: AddKeyOptions = {}): Promise<SigningKey> {
  const alg = options.alg ?? "RS256";
  const kid = options.kid ?? crypto.randomUUID();
  let pair: CryptoKeyPair;
  if (options.modulusLength !== undefined && options.modulusLength < 2048) {
    const name = alg.startsWith("PS") ? "RSA-PSS" : "RSASSA-PKCS1-v1_5";
    pair = (await crypto.subtle.generateKey(
      {
        name,
        modulusLength: options.modulusLength,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: `SHA-${alg.slice(2)}`,
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
  } else {
    const rsa = options.modulusLength === undefined ? {} : { modulusLength: options.modulusLength };
    pair = await generateKeyPair(alg, { extractable: true, ...rsa });
  }
  const exported = await exportJWK(pair.publicKey);
  const publicJwk: JWK = { ...exported, kid, use: "sig", alg, ...options.jwk };
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk };
}

// --- The issuer ---------------------------------------------------------------------------------

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/**
 * A valid JWKS (the real keys) padded beyond MAX_JWKS_RESPONSE_BYTES and streamed, so no Content-Length is sent:
 * only a cap counted on the stream refuses it.
 */
function oversizedBody(jwks: { keys: JWK[] }): ReadableStream<Uint8Array> {
  const head = utf8.encode(`${JSON.stringify(jwks).slice(0, -1)},"padding":"`);
  const filler = utf8.encode("x".repeat(16 * 1024));
  const tail = utf8.encode(`"}`);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    pull(controller) {
      if (sent > MAX_JWKS_RESPONSE_BYTES) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      sent += filler.byteLength;
      controller.enqueue(filler);
    },
  });
}

export async function createFakeIssuer(options: FakeIssuerOptions): Promise<FakeIssuer> {
  const issuer = options.issuer;
  const audience = options.audience ?? "ci-credential-broker";
  const jwksUri = `${issuer}${options.jwksPath ?? "/.well-known/jwks"}`;
  const discoveryUri = `${issuer}/.well-known/openid-configuration`;
  const clock = options.now ?? (() => Date.now());

  const keys: SigningKey[] = [await generateSigningKey()];
  let current: SigningKey = keys[0] as SigningKey;
  let jwksOverride: unknown = null;
  let discoveryOverride: Record<string, unknown> | null = null;
  let failMode: FailMode = null;
  let fetchCount = 0;
  let discoveryCount = 0;

  function key(kid?: string): SigningKey {
    if (kid === undefined) return current;
    const found = keys.find((candidate) => candidate.kid === kid);
    if (found === undefined) throw new Error(`fake issuer: no key ${kid}`);
    return found;
  }

  const sameDocument = (url: string, target: string) => {
    const a = new URL(url);
    const b = new URL(target);
    return a.origin === b.origin && a.pathname === b.pathname;
  };

  async function handler(request: Request): Promise<Response> {
    const isJwks = sameDocument(request.url, jwksUri);
    const isDiscovery = sameDocument(request.url, discoveryUri);
    if (isJwks) fetchCount += 1;
    if (isDiscovery) discoveryCount += 1;
    if (!isJwks && !isDiscovery) return new Response("not found", { status: 404 });
    if (failMode === "network") throw new TypeError("fake issuer: connection refused");
    if (failMode === "down") return new Response("service unavailable", { status: 503 });
    if (isDiscovery) {
      return json(
        discoveryOverride ?? {
          issuer,
          jwks_uri: jwksUri,
          subject_types_supported: ["public", "pairwise"],
          response_types_supported: ["id_token"],
          claims_supported: ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_id"],
          id_token_signing_alg_values_supported: ["RS256"],
          scopes_supported: ["openid"],
        },
      );
    }
    if (failMode === "garbage")
      return new Response("<!doctype html><title>oops</title>", {
        status: 200,
        headers: { "content-type": "text/html" },
      });
    if (failMode === "oversized")
      return new Response(oversizedBody({ keys: keys.map((entry) => entry.publicJwk) }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    if (failMode === "redirect")
      return new Response(null, { status: 302, headers: { location: "https://attacker.test/jwks" } });
    if (jwksOverride !== null) {
      return typeof jwksOverride === "string" ? new Response(jwksOverride, { status: 200 }) : json(jwksOverride);
    }
    return json({ keys: keys.map((entry) => entry.publicJwk) });
  }

  async function sign(
    header: Record<string, unknown>,
    payload: Record<string, unknown>,
    signOptions: { kid?: string } = {},
  ): Promise<string> {
    const signer = key(signOptions.kid);
    return signCompact(header, payload, signer.privateKey, signer.alg);
  }

  return {
    issuer,
    jwksUri,
    discoveryUri,
    audience,
    handler,
    key,
    get fetchCount() {
      return fetchCount;
    },
    get discoveryCount() {
      return discoveryCount;
    },
    async mint(claims = {}, mintOptions = {}) {
      const signer = key(mintOptions.kid);
      const iat = Math.floor((mintOptions.now ?? clock()) / 1000);
      // GitHub: nbf = iat - 300, exp = iat + 300 (tokens live 5 minutes).
      const payload: Record<string, unknown> = {
        ...githubClaims(options.claims),
        iss: issuer,
        aud: audience,
        iat,
        nbf: iat - 300,
        exp: iat + 300,
        ...claims,
      };
      for (const name of mintOptions.omit ?? []) delete payload[name];
      // GitHub's header also carries x5t (a certificate thumbprint): present here so verification must tolerate it.
      const header: Record<string, unknown> = {
        typ: "JWT",
        alg: mintOptions.alg ?? signer.alg,
        x5t: base64url.encode(signer.kid.slice(0, 20)),
        kid: signer.kid,
        ...mintOptions.header,
      };
      return signCompact(header, payload, signer.privateKey, signer.alg);
    },
    sign,
    async rotate() {
      const next = await generateSigningKey();
      keys.splice(0, keys.length, next);
      current = next;
    },
    async addKey(addOptions = {}) {
      const added = await generateSigningKey(addOptions);
      keys.push(added);
      return added.kid;
    },
    setJwks(body) {
      jwksOverride = body;
    },
    setDiscovery(doc) {
      discoveryOverride = doc;
    },
    fail(mode) {
      failMode = mode;
    },
  };
}
