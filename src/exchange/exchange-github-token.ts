// The GitHub token exchange (POST /v1/github-token), one pass: parse -> address limit -> verify -> kill switch
// (context.ts, as for AWS) -> decide the grant (+ shadow) -> context (GitHub facts the rule requires) -> admit
// (the token's single use, shared with /v1/credentials; the grant's bucket of the repository) -> mint (the token App)
// -> respond. Orchestration only; the token App's calls live in src/github-tokens/.
import { blankEvent, tokenHashPrefix } from "../audit/event.ts";
import { BrokerError } from "../errors.ts";
import { admit } from "./admission.ts";
import { authenticate, type ExchangeDeps } from "./context.ts";
import { failureResponse, recordExchange } from "./record.ts";
import { compareShadow } from "./shadow.ts";
import { requireContext } from "../github/stage.ts";
import { permissionList } from "../github-tokens/scope.ts";
import { parseGithubTokenRequest } from "../http/github-token-request.ts";
import { jsonResponse } from "../http/respond.ts";
import { decideGithubToken, type GithubTokenDecisionInput } from "../policy/decide.ts";
import { githubTokenShadowDiff } from "../policy/shadow.ts";

/**
 * The bucket a grant's issuances take from in the requesting repository's object: its own, beside the rule's roles'.
 */
export const grantBucket = (ruleId: string, grant: string) => `${ruleId}#github-token:${grant}`;

export async function exchangeGithubToken(request: Request, requestId: string, deps: ExchangeDeps): Promise<Response> {
  const started = deps.now();
  const event = blankEvent(requestId, "github_token");
  let response: Response;
  try {
    const { parsed, verified } = await authenticate(request, deps, event, parseGithubTokenRequest);

    // Frozen: a policy's `when` predicate reads the claims and can never rewrite what later stages see.
    const claims = Object.freeze(verified.claims) as unknown as Readonly<Record<string, unknown>>;
    const decisionInput: GithubTokenDecisionInput = { issuerId: verified.issuer.id, claims, githubToken: parsed.name };
    const decision = decideGithubToken(deps.policy, decisionInput);
    const candidate = deps.shadowPolicy;
    if (candidate !== undefined)
      compareShadow(deps, event, () => githubTokenShadowDiff(decision, decideGithubToken(candidate, decisionInput)));
    event.rule_id = decision.ruleId;
    if (!decision.allowed) throw new BrokerError("forbidden", decision.reason);
    const grant = decision.grant;
    event.github_token = grant.name;
    event.github_repositories = grant.repositories.map((name) => `${grant.owner}/${name}`).join(",");

    // Refused at start when a grant is granted without the token App (src/github-tokens/setup.ts); a closed door here.
    const tokenApp = deps.githubTokens;
    if (tokenApp === undefined) throw new BrokerError("config_invalid", "github_token_app_missing");

    // GitHub facts, then admission, as for AWS: a denial or an outage spends neither the budget nor the single use.
    if (decision.requirements !== undefined)
      await requireContext(deps.github, verified.issuer, claims, decision.requirements, event, deps.now, deps.log);
    const bucket = { ruleId: grantBucket(decision.ruleId, grant.name), rateLimit: decision.rateLimit };
    await admit(deps, event, verified, bucket, requestId);

    const progress = { calls: 0, rateRemaining: undefined };
    const mintStarted = deps.now();
    const minted = await tokenApp
      .mint(grant, progress)
      .catch(async (error: unknown) => {
        // No token left the broker: the OIDC token may still buy its one, so a retry is not `token_reused`.
        await deps.admission.release(verified, requestId);
        if (error instanceof BrokerError && error.code === "upstream_unavailable") {
          deps.log({
            message: "github_unavailable",
            request_id: requestId,
            reason: error.reason,
            detail: typeof error.cause === "string" ? error.cause : undefined,
          });
        }
        throw error;
      })
      .finally(() => {
        event.github_ms = (event.github_ms ?? 0) + (deps.now() - mintStarted);
        if (progress.rateRemaining !== undefined)
          event.github_rate_remaining = Math.min(event.github_rate_remaining ?? Infinity, progress.rateRemaining);
      });
    event.github_permissions = permissionList(minted.permissions);
    event.minted_sha256 = await tokenHashPrefix(minted.token);
    response = jsonResponse(
      {
        token: minted.token,
        expires_at: minted.expiresAt,
        permissions: minted.permissions,
        repositories: minted.repositories,
        api_url: minted.apiUrl,
      },
      requestId,
    );
  } catch (thrown) {
    response = failureResponse(thrown, deps, event);
  }
  return recordExchange(deps, event, response, started);
}
