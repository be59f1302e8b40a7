// The exchange's context stage: after decide allowed a rule with requirements, and before admission (a denied or
// failed request spends neither the repository's budget nor the token's single use). Records the facts used in the
// audit event, allowed or denied. I/O through GitHubContext; throws BrokerError to refuse.
import type { ExchangeEvent } from "../audit/event.ts";
import type { Clock, LogFn } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { IssuerConfig } from "../oidc/issuers.ts";
import type { CompiledRequirements } from "../policy/requirements.ts";
import type { GitHubContext } from "./context.ts";

const claim = (claims: Readonly<Record<string, unknown>>, name: string) =>
  typeof claims[name] === "string" ? (claims[name] as string) : "";

export async function requireContext(
  github: GitHubContext | undefined,
  issuer: Pick<IssuerConfig, "apiUrl">,
  claims: Readonly<Record<string, unknown>>,
  requirements: CompiledRequirements,
  event: ExchangeEvent,
  now: Clock,
  log: LogFn,
): Promise<void> {
  // Both are refused at start (src/broker.ts); kept as a closed door should that check ever be bypassed.
  if (github === undefined) throw new BrokerError("config_invalid", "github_app_missing");
  if (issuer.apiUrl === undefined) throw new BrokerError("config_invalid", "github_api_url_missing");
  const started = now();
  try {
    const report = await github.evaluate(
      {
        apiUrl: issuer.apiUrl,
        repository: claim(claims, "repository"),
        repositoryId: claim(claims, "repository_id"),
        sha: claim(claims, "sha"),
        ref: claim(claims, "ref"),
        eventName: claim(claims, "event_name"),
        runId: claim(claims, "run_id"),
        workflowRef: claim(claims, "workflow_ref"),
        baseRef: claim(claims, "base_ref"),
      },
      requirements,
    );
    event.context_facts = report.verdict.facts.join("; ");
    event.github_rate_remaining = report.rateRemaining;
    if (!report.verdict.met) throw new BrokerError("forbidden", report.verdict.reason);
  } catch (error) {
    // The answer stays the generic 503; what failed (the API path, a status, a timeout; never a body) goes to the log.
    if (error instanceof BrokerError && error.code === "upstream_unavailable") {
      log({
        message: "github_unavailable",
        request_id: event.request_id,
        reason: error.reason,
        detail: typeof error.cause === "string" ? error.cause : undefined,
      });
    }
    throw error;
  } finally {
    event.github_ms = now() - started;
  }
}
