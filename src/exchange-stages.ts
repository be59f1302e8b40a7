// The stages both exchanges (AWS credentials, GitHub tokens) share, in their order: read and parse the request, hash
// the token, check its shape, limit the client address, verify, kill switch; shadow comparison; and the audit write.
// Orchestration only: each stage lives in its own module; I/O arrives through `ExchangeDeps`.
import { outcomeFor, tokenHashPrefix, type AuditSink, type ExchangeEvent } from "./audit/event.ts";
import type { Config } from "./config.ts";
import { MAX_REQUEST_BODY_BYTES } from "./http/constants.ts";
import type { Clock, FetchFn, LogFn, RandomFn, Sleep } from "./deps.ts";
import { BrokerError } from "./errors.ts";
import type { GitHubContext } from "./github/context.ts";
import type { TokenApp } from "./github-tokens/token-app.ts";
import type { RawCredentialRequest } from "./http/credential-request.ts";
import { readBodyCapped } from "./http/read-body.ts";
import { errorResponse } from "./http/respond.ts";
import type { IdentityProvider } from "./idp/provider.ts";
import { claimSubject, type ClaimSubject } from "./oidc/claims.ts";
import type { JwksCache } from "./oidc/jwks-cache.ts";
import { checkTokenShape } from "./oidc/token-shape.ts";
import { verifyToken, type VerifiedToken } from "./oidc/verify.ts";
import type { CompiledPolicy } from "./policy/compile.ts";
import type { KillSwitch } from "./policy/kill-switch.ts";
import type { RateLimitDefinition } from "./policy/types.ts";

/** The rule that allowed a request: its id names the repository's bucket; its `rateLimit` overrides the default. */
export interface AdmissionRule {
  ruleId: string;
  rateLimit: RateLimitDefinition | undefined;
}

/** Admission control (src/admission/): Durable Objects in production. Throws BrokerError to refuse. */
export interface Admission {
  /** Pre-authentication limit per client address (`CF-Connecting-IP`); runs before any signature work. */
  limitAddress(cfConnectingIp: string | null): Promise<void>;
  /**
   * Reserves the token's (iss, jti) for `holder` (the exchange's request id) and takes one issuance from its
   * repository's bucket: one round trip. Single use holds across both endpoints: the reservation is per token.
   */
  admit(token: VerifiedToken, rule: AdmissionRule, holder: string): Promise<void>;
  /** Forgets `holder`'s reservation after a failed upstream call (nothing left the broker). Best effort; never throws. */
  release(token: VerifiedToken, holder: string): Promise<void>;
}

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

/** Any thrown value becomes a BrokerError; unknown ones are internal errors (their detail stays in the log). */
export function asBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  return new BrokerError("internal_error", "unhandled_exception", { cause: error });
}

/** Runs one admission step, adding its duration to `admission_ms` whatever the outcome. */
export async function timed(deps: ExchangeDeps, event: ExchangeEvent, step: () => Promise<void>): Promise<void> {
  const started = deps.now();
  try {
    await step();
  } finally {
    event.admission_ms = (event.admission_ms ?? 0) + (deps.now() - started);
  }
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

/** Shadow mode: one `policy_shadow` log line when `diff` finds the candidate decides differently. Never throws, never answers. */
export function compareShadow(deps: ExchangeDeps, event: ExchangeEvent, diff: () => object | undefined): void {
  try {
    const found = diff();
    if (found !== undefined) {
      deps.log({
        message: "policy_shadow",
        request_id: event.request_id,
        issuer: event.issuer,
        repository: event.repository,
        ref: event.ref,
        event_name: event.event_name,
        ...found,
      });
    }
  } catch (error) {
    deps.log({
      message: "policy_shadow_failed",
      request_id: event.request_id,
      error: error instanceof Error ? error.name : typeof error,
    });
  }
}

/** A failure's response, its code and reason in the event; a bug's detail goes to the log only. */
export function failureResponse(thrown: unknown, deps: ExchangeDeps, event: ExchangeEvent): Response {
  const error = asBrokerError(thrown);
  if (!(thrown instanceof BrokerError)) {
    // A bug, not a client mistake: keep what a maintainer needs, in the log only.
    deps.log({
      message: "unhandled_exception",
      request_id: event.request_id,
      error: thrown instanceof Error ? thrown.name : typeof thrown,
      detail: thrown instanceof Error ? thrown.message : undefined,
    });
  }
  event.code = error.code;
  event.reason = error.reason;
  return errorResponse(error, event.request_id);
}

/** Completes the event with the answer and writes it, never awaited: recording must not delay or change the answer. */
export function recordExchange(
  deps: ExchangeDeps,
  event: ExchangeEvent,
  response: Response,
  started: number,
): Response {
  event.status = response.status;
  event.outcome = outcomeFor(response.status, event.code);
  event.total_ms = deps.now() - started;
  try {
    // composeSinks (src/audit/sinks.ts) logs sink failures; this guard only keeps a bare sink from changing the
    // response or leaving a rejection unhandled.
    const pending = deps.audit.write(event);
    if (pending instanceof Promise) pending.catch(() => undefined);
  } catch {
    // Recording must never change the answer.
  }
  return response;
}
