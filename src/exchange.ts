// The credential exchange, one pass: parse -> verify -> admit -> decide -> assume role -> respond.
// Orchestration only: each stage lives in its own module; I/O arrives through `ExchangeDeps`.
import { buildAssumeRoleInput } from "./aws/session.ts";
import { assumeRole } from "./aws/sts-client.ts";
import { outcomeFor, tokenHashPrefix, type AuditSink, type ExchangeEvent } from "./audit/event.ts";
import type { Config } from "./config.ts";
import { MAX_REQUEST_BODY_BYTES } from "./constants.ts";
import type { Clock, FetchFn, LogFn, RandomFn, Sleep } from "./deps.ts";
import { BrokerError } from "./errors.ts";
import { parseCredentialRequest } from "./http/credential-request.ts";
import { readBodyCapped } from "./http/read-body.ts";
import { credentialsResponse, errorResponse } from "./http/respond.ts";
import type { JwksCache } from "./oidc/jwks-cache.ts";
import { verifyToken, type VerifiedToken } from "./oidc/verify.ts";
import type { CompiledPolicy } from "./policy/compile.ts";
import { decide } from "./policy/decide.ts";

/** Admission control (single-use jti, rate limits). Issue #3 backs it with a Durable Object. */
export interface Admission {
  admit(token: VerifiedToken): Promise<void>;
}

/** Everything one exchange needs, built once per isolate (see broker.ts). */
export interface ExchangeDeps {
  config: Config;
  policy: CompiledPolicy;
  jwks: JwksCache;
  admission: Admission;
  audit: AuditSink;
  fetch: FetchFn;
  now: Clock;
  sleep: Sleep;
  random: RandomFn;
  log: LogFn;
}

function blankEvent(requestId: string): ExchangeEvent {
  return {
    request_id: requestId,
    outcome: "error",
    code: undefined,
    reason: undefined,
    issuer: undefined,
    repository: undefined,
    ref: undefined,
    event_name: undefined,
    rule_id: undefined,
    role_alias: undefined,
    token_sha256: undefined,
    status: 0,
    total_ms: 0,
    verify_ms: undefined,
    sts_ms: undefined,
    sts_attempts: undefined,
  };
}

/** Any thrown value becomes a BrokerError; unknown ones are internal errors (their detail stays in the log). */
export function asBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  return new BrokerError("internal_error", "unhandled_exception", { cause: error });
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
    event.token_sha256 = await tokenHashPrefix(parsed.token);

    const verifyStarted = deps.now();
    const verified = await verifyToken(parsed.token, { issuers: deps.config.issuers, jwks: deps.jwks, now: deps.now }).finally(() => {
      event.verify_ms = deps.now() - verifyStarted;
    });
    event.issuer = verified.issuer.id;
    event.repository = verified.claims.repository;
    event.ref = verified.claims.ref;
    event.event_name = verified.claims.event_name;

    const decision = decide(deps.policy, {
      issuerId: verified.issuer.id,
      claims: verified.claims as unknown as Readonly<Record<string, unknown>>,
      role: parsed.role,
      durationSeconds: parsed.durationSeconds,
    });
    event.rule_id = decision.ruleId;
    if (!decision.allowed) throw new BrokerError("forbidden", decision.reason);
    event.role_alias = decision.grant.alias;

    // Admission after the decision: a denied or invalid token never consumes its repository's budget.
    await deps.admission.admit(verified);

    const input = buildAssumeRoleInput({ claims: verified.claims, grant: decision.grant, durationSeconds: decision.durationSeconds });
    const result = await assumeRole(input, { aws: deps.config.aws, fetch: deps.fetch, now: deps.now, sleep: deps.sleep, random: deps.random });
    event.sts_ms = result.stsMs;
    event.sts_attempts = result.attempts;
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
    deps.audit.write(event);
  } catch {
    // Recording must never change the answer (issue #5 reports sink failures through the log).
  }
  return response;
}
