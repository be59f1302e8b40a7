// The credential exchange, one pass: parse -> address limit -> verify -> kill switch -> decide (+ shadow) -> context
// (GitHub
// facts a rule requires) -> admit (jti, bucket) -> assume role -> respond. The GitHub token exchange
// (exchange-github-token.ts) shares every stage up to the decision (context.ts) and after it (admission.ts, record.ts).
// Orchestration only: each stage lives in its own module; I/O arrives through `ExchangeDeps`.
import { buildAssumeRoleInput, sessionArgsFor } from "../aws/session.ts";
import { assumeRole, type AssumeRoleProgress, type AssumeRoleResult } from "../aws/sts-client.ts";
import { assumeRoleWithWebIdentity } from "../aws/web-identity.ts";
import type { AssumeRoleInput } from "../aws/session.ts";
import type { DecidedSubject } from "../idp/web-identity-token.ts";
import { blankEvent } from "../audit/event.ts";
import { BrokerError } from "../errors.ts";
import { admit } from "./admission.ts";
import { authenticate, type ExchangeDeps } from "./context.ts";
import { failureResponse, recordExchange } from "./record.ts";
import { compareShadow } from "./shadow.ts";
import { parseCredentialRequest } from "../http/credential-request.ts";
import { credentialsResponse } from "../http/respond.ts";
import { requireContext } from "../github/stage.ts";
import { decide, type DecisionInput } from "../policy/decide.ts";
import { shadowDiff } from "../policy/shadow.ts";

/**
 * The STS call of the configured mode: AssumeRole signed with the broker's key, or AssumeRoleWithWebIdentity with a
 * minted token.
 */
function callStsFor(
  deps: ExchangeDeps,
  input: AssumeRoleInput,
  decided: DecidedSubject,
  progress: AssumeRoleProgress,
): Promise<AssumeRoleResult> {
  const call = { fetch: deps.fetch, now: deps.now, sleep: deps.sleep, random: deps.random, progress };
  const config = deps.config;
  if (config.stsAuth === "sigv4") return assumeRole(input, { ...call, aws: config.aws });
  const provider = deps.identityProvider;
  if (provider === undefined) return Promise.reject(new BrokerError("config_invalid", "identity_provider_missing"));
  return assumeRoleWithWebIdentity(input, {
    ...call,
    stsEndpoint: config.aws.stsEndpoint,
    mintToken: (granted) => provider.mint(granted, decided),
  });
}

export async function exchangeCredentials(request: Request, requestId: string, deps: ExchangeDeps): Promise<Response> {
  const started = deps.now();
  const event = blankEvent(requestId, "aws");
  let response: Response;
  try {
    const { parsed, verified, subject, tokenSha256 } = await authenticate(request, deps, event, parseCredentialRequest);

    // Frozen: a policy's `when` predicate reads the claims and can never rewrite what later stages see.
    const decisionInput: DecisionInput = {
      issuerId: verified.issuer.id,
      claims: Object.freeze(verified.claims) as unknown as Readonly<Record<string, unknown>>,
      role: parsed.role,
      durationSeconds: parsed.durationSeconds,
    };
    const decision = decide(deps.policy, decisionInput);
    const candidate = deps.shadowPolicy;
    if (candidate !== undefined)
      compareShadow(deps, event, () => shadowDiff(decision, decide(candidate, decisionInput)));
    event.rule_id = decision.ruleId;
    if (!decision.allowed) throw new BrokerError("forbidden", decision.reason);
    event.role_alias = decision.grant.alias;

    // Pure, and before admission: claims that cannot be tagged losslessly (session_tag_unrepresentable) are refused
    // without consuming the token or the repository's budget.
    const input = await buildAssumeRoleInput(
      sessionArgsFor(verified.issuer, verified.claims, decision.grant, decision.durationSeconds, tokenSha256),
    );

    // GitHub facts only now: unknown repositories and guarded requests never cost an API call, and before admission so
    // a denial or a GitHub outage (503) spends neither the repository's budget nor the token's single use.
    if (decision.requirements !== undefined)
      await requireContext(
        deps.github,
        verified.issuer,
        verified.claims as unknown as Readonly<Record<string, unknown>>,
        decision.requirements,
        event,
        deps.now,
        deps.log,
      );

    // Admission after the decision: a denied or invalid token never consumes its repository's budget.
    await admit(deps, event, verified, { ruleId: decision.ruleId, rateLimit: decision.rateLimit }, requestId);
    // Progress is recorded per attempt: a failed AssumeRole still reports its attempts and STS time.
    const progress = { attempts: 0, stsMs: 0 };
    const decided = {
      issuerId: verified.issuer.id,
      issuerKind: verified.issuer.kind,
      issuerUrl: verified.issuer.issuer,
      repository: subject.repository,
      ruleId: decision.ruleId,
      roleAlias: decision.grant.alias,
    };
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
    response = failureResponse(thrown, deps, event);
  }
  return recordExchange(deps, event, response, started);
}
