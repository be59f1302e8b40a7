// What one exchange needs (ExchangeDeps, built once per isolate) and who is asking (authenticate): the stages both
// exchanges (AWS credentials, GitHub tokens) run first, in their order: read and parse the request, hash the token,
// check its shape, limit the client address, verify, kill switch. Orchestration only: I/O arrives through the deps.
import type { Admission } from "../admission/admission.ts";
import { tokenHashPrefix, type AuditSink, type ExchangeEvent } from "../audit/event.ts";
import type { Config } from "../config.ts";
import { MAX_REQUEST_BODY_BYTES } from "../http/constants.ts";
import type { Clock, FetchFn, LogFn, RandomFn, Sleep } from "../deps.ts";
import type { GitHubContext } from "../github/context.ts";
import type { TokenApp } from "../github-tokens/token-app.ts";
import type { RawCredentialRequest } from "../http/credential-request.ts";
import { readBodyCapped } from "../http/read-body.ts";
import type { IdentityProvider } from "../idp/provider.ts";
import { claimSubject, type ClaimSubject } from "../oidc/claims.ts";
import type { JwksCache } from "../oidc/jwks-cache.ts";
import { checkTokenShape } from "../oidc/token-shape.ts";
import { verifyToken, type VerifiedToken } from "../oidc/verify.ts";
import type { CompiledPolicy } from "../policy/compile.ts";
import type { KillSwitch } from "../policy/kill-switch.ts";
import { timed } from "./admission.ts";

/** Everything one exchange needs, built once per isolate (see broker.ts). */
export interface ExchangeDeps {
  config: Config;
  policy: CompiledPolicy;
  /** Shadow mode: a candidate policy decided beside the live one; differences are logged, never answered. */
  shadowPolicy?: CompiledPolicy | undefined;
  /** Operator denials by KV key (src/policy/kill-switch.ts), checked after verification on every request. */
  killSwitch: KillSwitch;
  jwks: JwksCache;
  /** Web-identity mode (STS_AUTH = "web-identity"): the broker's OpenID provider, which mints the token for STS. */
  identityProvider?: IdentityProvider | undefined;
  /** GitHub facts for rules with `require` (src/github/); undefined when no GitHub App is configured. */
  github?: GitHubContext | undefined;
  /** The token App for GitHub token grants (src/github-tokens/); undefined when none is configured. */
  githubTokens?: TokenApp | undefined;
  admission: Admission;
  audit: AuditSink;
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  log: LogFn;
}

export interface Authenticated<P> {
  parsed: P;
  verified: VerifiedToken;
  subject: ClaimSubject;
  /** SHA-256 prefix of the OIDC token (also in the event). */
  tokenSha256: string;
}

/**
 * Read and parse (size cap, strict JSON) -> token shape -> client address limit -> verify -> kill switch. Cheap first:
 * a garbage token costs no cryptography. Fills the event's who-asked fields as they become trusted.
 */
export async function authenticate<P extends { token: string }>(
  request: Request,
  deps: ExchangeDeps,
  event: ExchangeEvent,
  parse: (raw: RawCredentialRequest) => P,
): Promise<Authenticated<P>> {
  const body = await readBodyCapped(request, MAX_REQUEST_BODY_BYTES);
  const parsed = parse({
    authorization: request.headers.get("authorization"),
    contentType: request.headers.get("content-type"),
    body,
  });
  const tokenSha256 = await tokenHashPrefix(parsed.token);
  event.token_sha256 = tokenSha256;
  // The shape (checked once, here), then the client address's limit, and only then signature work.
  const token = checkTokenShape(parsed.token);
  await timed(deps, event, () => deps.admission.limitAddress(request.headers.get("cf-connecting-ip")));

  const verifyStarted = deps.now();
  const verified = await verifyToken(token, { issuers: deps.config.issuers, jwks: deps.jwks, now: deps.now }).finally(
    () => {
      event.verify_ms = deps.now() - verifyStarted;
    },
  );
  event.issuer = verified.issuer.id;
  const subject = claimSubject(verified.issuer.kind, verified.claims);
  event.repository = subject.repository;
  event.ref = subject.ref;
  event.event_name = subject.event;

  // The kill switch first: an operator's denial holds whatever the policy says (fails closed on KV errors).
  await deps.killSwitch.check(verified.issuer.id, verified.issuer.kind, subject);
  return { parsed, verified, subject, tokenSha256 };
}
