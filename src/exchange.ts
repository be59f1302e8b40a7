// The credential exchange, one pass: parse -> address limit -> verify -> kill switch -> decide (+ shadow) -> context (GitHub
// facts a rule requires) -> admit (jti, bucket) -> assume role -> respond.
// Orchestration only: each stage lives in its own module; I/O arrives through `ExchangeDeps`.
import { buildAssumeRoleInput, sessionArgsFor } from "./aws/session.ts";
import { assumeRole, type AssumeRoleProgress, type AssumeRoleResult } from "./aws/sts-client.ts";
import { assumeRoleWithWebIdentity } from "./aws/web-identity.ts";
import type { AssumeRoleInput } from "./aws/session.ts";
import type { IdentityProvider } from "./idp/provider.ts";
import type { DecidedSubject } from "./idp/web-identity-token.ts";
import { blankEvent, outcomeFor, tokenHashPrefix, type AuditSink, type ExchangeEvent } from "./audit/event.ts";
import type { Config } from "./config.ts";
import { MAX_REQUEST_BODY_BYTES } from "./constants.ts";
import type { Clock, FetchFn, LogFn, RandomFn, Sleep } from "./deps.ts";
import { BrokerError } from "./errors.ts";
import { parseCredentialRequest } from "./http/credential-request.ts";
import { readBodyCapped } from "./http/read-body.ts";
import { credentialsResponse, errorResponse } from "./http/respond.ts";
import type { JwksCache } from "./oidc/jwks-cache.ts";
import { checkTokenShape } from "./oidc/token-shape.ts";
import { claimSubject } from "./oidc/claims.ts";
import { verifyToken, type VerifiedToken } from "./oidc/verify.ts";
import type { GitHubContext } from "./github/context.ts";
import { requireContext } from "./github/stage.ts";
import type { CompiledPolicy } from "./policy/compile.ts";
import { decide, type Decision, type DecisionInput } from "./policy/decide.ts";
import type { KillSwitch } from "./policy/kill-switch.ts";
import { shadowDiff } from "./policy/shadow.ts";
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
   * repository's bucket: one round trip.
   */
  admit(token: VerifiedToken, rule: AdmissionRule, holder: string): Promise<void>;
  /** Forgets `holder`'s reservation after a failed STS call (no credentials left the broker). Best effort; never throws. */
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
async function timed(deps: ExchangeDeps, event: ExchangeEvent, step: () => Promise<void>): Promise<void> {
  const started = deps.now();
  try {
    await step();
  } finally {
    event.admission_ms = (event.admission_ms ?? 0) + (deps.now() - started);
  }
}

/** Shadow mode: one `policy_shadow` log line when the candidate decides differently. Never throws, never answers. */
function compareShadow(deps: ExchangeDeps, candidate: CompiledPolicy, input: DecisionInput, live: Decision, event: ExchangeEvent): void {
  try {
    const diff = shadowDiff(live, decide(candidate, input));
    if (diff !== undefined) {
      deps.log({ message: "policy_shadow", request_id: event.request_id, issuer: event.issuer, repository: event.repository, ref: event.ref, event_name: event.event_name, ...diff });
    }
  } catch (error) {
    deps.log({ message: "policy_shadow_failed", request_id: event.request_id, error: error instanceof Error ? error.name : typeof error });
  }
}

/** The STS call of the configured mode: AssumeRole signed with the broker's key, or AssumeRoleWithWebIdentity with a minted token. */
function callStsFor(deps: ExchangeDeps, input: AssumeRoleInput, decided: DecidedSubject, progress: AssumeRoleProgress): Promise<AssumeRoleResult> {
  const call = { fetch: deps.fetch, now: deps.now, sleep: deps.sleep, random: deps.random, progress };
  const config = deps.config;
  if (config.stsAuth === "sigv4") return assumeRole(input, { ...call, aws: config.aws });
  const provider = deps.identityProvider;
  if (provider === undefined) return Promise.reject(new BrokerError("config_invalid", "identity_provider_missing"));
  return assumeRoleWithWebIdentity(input, { ...call, stsEndpoint: config.aws.stsEndpoint, mintToken: (granted) => provider.mint(granted, decided) });
}

export async function exchangeCredentials(request: Request, requestId: string, deps: ExchangeDeps): Promise<Response> {
  const started = deps.now();
  const event = blankEvent(requestId);
  let response: Response;
  try {
    const body = await readBodyCapped(request, MAX_REQUEST_BODY_BYTES);
    const parsed = parseCredentialRequest({
      authorization: request.headers.get("authorization"),
      contentType: request.headers.get("content-type"),
      body,
    });
    const tokenSha256 = await tokenHashPrefix(parsed.token);
    event.token_sha256 = tokenSha256;
    // Cheap first: the shape (checked once, here), then the client address's limit, and only then signature work.
    const token = checkTokenShape(parsed.token);
    await timed(deps, event, () => deps.admission.limitAddress(request.headers.get("cf-connecting-ip")));

    const verifyStarted = deps.now();
    const verified = await verifyToken(token, { issuers: deps.config.issuers, jwks: deps.jwks, now: deps.now }).finally(() => {
      event.verify_ms = deps.now() - verifyStarted;
    });
    event.issuer = verified.issuer.id;
    const subject = claimSubject(verified.issuer.kind, verified.claims);
    event.repository = subject.repository;
    event.ref = subject.ref;
    event.event_name = subject.event;

    // The kill switch first: an operator's denial holds whatever the policy says (fails closed on KV errors).
    await deps.killSwitch.check(verified.issuer.id, verified.issuer.kind, subject);

    // Frozen: a policy's `when` predicate reads the claims and can never rewrite what later stages see.
    const decisionInput: DecisionInput = {
      issuerId: verified.issuer.id,
      claims: Object.freeze(verified.claims) as unknown as Readonly<Record<string, unknown>>,
      role: parsed.role,
      durationSeconds: parsed.durationSeconds,
    };
    const decision = decide(deps.policy, decisionInput);
    if (deps.shadowPolicy !== undefined) compareShadow(deps, deps.shadowPolicy, decisionInput, decision, event);
    event.rule_id = decision.ruleId;
    if (!decision.allowed) throw new BrokerError("forbidden", decision.reason);
    event.role_alias = decision.grant.alias;

    // Pure, and before admission: claims that cannot be tagged losslessly (session_tag_unrepresentable) are refused
    // without consuming the token or the repository's budget.
    const input = await buildAssumeRoleInput(sessionArgsFor(verified.issuer, verified.claims, decision.grant, decision.durationSeconds, tokenSha256));

    // GitHub facts only now: unknown repositories and guarded requests never cost an API call, and before admission so
    // a denial or a GitHub outage (503) spends neither the repository's budget nor the token's single use.
    if (decision.requirements !== undefined) await requireContext(deps.github, verified.issuer, verified.claims as unknown as Readonly<Record<string, unknown>>, decision.requirements, event, deps.now, deps.log);

    // Admission after the decision: a denied or invalid token never consumes its repository's budget.
    await timed(deps, event, () => deps.admission.admit(verified, { ruleId: decision.ruleId, rateLimit: decision.rateLimit }, requestId));
    // Progress is recorded per attempt: a failed AssumeRole still reports its attempts and STS time.
    const progress = { attempts: 0, stsMs: 0 };
    const decided = { issuerId: verified.issuer.id, issuerKind: verified.issuer.kind, issuerUrl: verified.issuer.issuer, repository: subject.repository, ruleId: decision.ruleId, roleAlias: decision.grant.alias };
    const result = await callStsFor(deps, input, decided, progress)
      .catch(async (error: unknown) => {
        // No credentials left the broker: the token may still buy its one set, so a retry is not `token_reused`.
        await deps.admission.release(verified, requestId);
        throw error;
      })
      .finally(() => {
        if (progress.attempts === 0) return; // failed before any request: STS was not called
        event.sts_ms = progress.stsMs;
        event.sts_attempts = progress.attempts;
      });
    response = credentialsResponse(result.credentials, requestId);
  } catch (thrown) {
    const error = asBrokerError(thrown);
    if (!(thrown instanceof BrokerError)) {
      // A bug, not a client mistake: keep what a maintainer needs, in the log only.
      deps.log({ message: "unhandled_exception", request_id: requestId, error: thrown instanceof Error ? thrown.name : typeof thrown, detail: thrown instanceof Error ? thrown.message : undefined });
    }
    event.code = error.code;
    event.reason = error.reason;
    response = errorResponse(error, requestId);
  }
  event.status = response.status;
  event.outcome = outcomeFor(response.status, event.code);
  event.total_ms = deps.now() - started;
  try {
    // Never awaited: recording must not delay the answer. composeSinks (src/audit/sinks.ts) logs sink failures;
    // this guard only keeps a bare sink from changing the response or leaving a rejection unhandled.
    const pending = deps.audit.write(event);
    if (pending instanceof Promise) pending.catch(() => undefined);
  } catch {
    // Recording must never change the answer.
  }
  return response;
}
