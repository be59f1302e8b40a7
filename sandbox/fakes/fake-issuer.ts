// A fake GitHub-Actions-like OIDC issuer: discovery document, JWKS, key rotation, outages, and token minting
// (including hostile tokens for the attack table). Platform-neutral: WebCrypto and fetch types only (workerd and Node
// 24).
// Its claims (github-claims.ts) and token building blocks (jwt-parts.ts) are re-exported for its callers.
import { base64url, type JWK } from "jose";
import { MAX_JWKS_RESPONSE_BYTES } from "../../src/oidc/constants.ts";
import { githubClaims } from "./github-claims.ts";
import { type AddKeyOptions, generateSigningKey, type SigningKey, signCompact } from "./jwt-parts.ts";

export { githubClaims, SAMPLE_SHA } from "./github-claims.ts";
export {
  type AddKeyOptions,
  encodeSegment,
  generateSigningKey,
  hmacToken,
  type SigningKey,
  signCompact,
  spkiPem,
  unsignedToken,
} from "./jwt-parts.ts";

export interface FakeIssuerOptions {
  /** Exact `iss` and discovery base, e.g. `https://issuer-<uuid>.test`. */
  issuer: string;
  /** `aud` of minted tokens. Default "ci-credential-broker". */
  audience?: string;
  /** Path of the JWKS, default GitHub's `/.well-known/jwks`. */
  jwksPath?: string;
  /** Clock (ms) used for `iat`/`nbf`/`exp` of minted tokens. Default Date.now. */
  now?: () => number;
  /**
   * Claims laid over githubClaims() in every minted token, before the mint's own (the sandbox's policy-derived
   * defaults).
   */
  claims?: Record<string, unknown>;
}

/**
 * How the issuer misbehaves: whole issuer answers 503 / connection fails; or the JWKS is garbage, oversized,
 * redirected.
 */
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
export interface FakeIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly discoveryUri: string;
  readonly audience: string;
  /** Serves the discovery document and the JWKS; 404 otherwise. */
  handler: (request: Request) => Promise<Response>;
  /**
   * A GitHub-shaped RS256 token: githubClaims() + the issuer's `claims` + iss/aud/iat/nbf/exp, then `claims` overrides.
   */
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

// --- The issuer ---------------------------------------------------------------------------------

const utf8 = new TextEncoder();

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

/** The issuer's keys, what a test made it serve instead, and its fetch counts. */
interface IssuerState {
  options: FakeIssuerOptions;
  issuer: string;
  audience: string;
  jwksUri: string;
  discoveryUri: string;
  clock: () => number;
  keys: SigningKey[];
  current: SigningKey;
  jwksOverride: unknown;
  discoveryOverride: Record<string, unknown> | null;
  failMode: FailMode;
  fetchCount: number;
  discoveryCount: number;
}

export async function createFakeIssuer(options: FakeIssuerOptions): Promise<FakeIssuer> {
  const first = await generateSigningKey();
  const state: IssuerState = {
    options,
    issuer: options.issuer,
    audience: options.audience ?? "ci-credential-broker",
    jwksUri: `${options.issuer}${options.jwksPath ?? "/.well-known/jwks"}`,
    discoveryUri: `${options.issuer}/.well-known/openid-configuration`,
    clock: options.now ?? (() => Date.now()),
    keys: [first],
    current: first,
    jwksOverride: null,
    discoveryOverride: null,
    failMode: null,
    fetchCount: 0,
    discoveryCount: 0,
  };
  const { issuer, jwksUri, discoveryUri, audience, keys } = state;
  return {
    issuer,
    jwksUri,
    discoveryUri,
    audience,
    handler: (request) => serve(state, request),
    key: (kid) => keyOf(state, kid),
    get fetchCount() {
      return state.fetchCount;
    },
    get discoveryCount() {
      return state.discoveryCount;
    },
    mint: (claims = {}, mintOptions = {}) => mint(state, claims, mintOptions),
    async sign(header, payload, signOptions = {}) {
      const signer = keyOf(state, signOptions.kid);
      return signCompact(header, payload, signer.privateKey, signer.alg);
    },
    async rotate() {
      const next = await generateSigningKey();
      keys.splice(0, keys.length, next);
      state.current = next;
    },
    async addKey(addOptions = {}) {
      const added = await generateSigningKey(addOptions);
      keys.push(added);
      return added.kid;
    },
    setJwks(body) {
      state.jwksOverride = body;
    },
    setDiscovery(doc) {
      state.discoveryOverride = doc;
    },
    fail(mode) {
      state.failMode = mode;
    },
  };
}

function keyOf(state: IssuerState, kid?: string): SigningKey {
  if (kid === undefined) return state.current;
  const found = state.keys.find((candidate) => candidate.kid === kid);
  if (found === undefined) throw new Error(`fake issuer: no key ${kid}`);
  return found;
}

const sameDocument = (url: string, target: string) => {
  const a = new URL(url);
  const b = new URL(target);
  return a.origin === b.origin && a.pathname === b.pathname;
};

/** The discovery document and the JWKS, or the misbehaviour a test asked for. */
async function serve(state: IssuerState, request: Request): Promise<Response> {
  const isJwks = sameDocument(request.url, state.jwksUri);
  const isDiscovery = sameDocument(request.url, state.discoveryUri);
  if (isJwks) state.fetchCount += 1;
  if (isDiscovery) state.discoveryCount += 1;
  if (!isJwks && !isDiscovery) return new Response("not found", { status: 404 });
  const { failMode, jwksOverride, keys } = state;
  if (failMode === "network") throw new TypeError("fake issuer: connection refused");
  if (failMode === "down") return new Response("service unavailable", { status: 503 });
  if (isDiscovery) {
    return json(
      state.discoveryOverride ?? {
        issuer: state.issuer,
        jwks_uri: state.jwksUri,
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

async function mint(
  state: IssuerState,
  claims: Partial<Record<string, unknown>>,
  mintOptions: MintOptions,
): Promise<string> {
  const signer = keyOf(state, mintOptions.kid);
  const iat = Math.floor((mintOptions.now ?? state.clock()) / 1000);
  // GitHub: nbf = iat - 300, exp = iat + 300 (tokens live 5 minutes).
  const payload: Record<string, unknown> = {
    ...githubClaims(state.options.claims),
    iss: state.issuer,
    aud: state.audience,
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
}
