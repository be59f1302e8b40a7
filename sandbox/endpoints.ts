// The sandbox's conveniences beside the issuer and STS (docs/sandbox.md "Endpoints"): mint a token, mint and exchange
// in one step, and GitHub Actions' ID-token endpoint for a sandbox `credential_process` profile. Each takes what it
// needs as arguments; the only I/O is the injected fetch to the broker.
import type { FakeIssuer } from "./fakes/fake-issuer.ts";

/** ACTIONS_ID_TOKEN_REQUEST_TOKEN the sandbox's Actions endpoint accepts (the runner's is per job; this is local). */
export const SANDBOX_ACTIONS_REQUEST_TOKEN = "sandbox";
/** Path of the sandbox's Actions ID-token endpoint: the runner's own path. */
export const SANDBOX_ACTIONS_TOKEN_PATH = "/_apis/oidc/token";

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function invalid(message: string): Response {
  return json({ error: "invalid_request", message }, 400);
}

/** A JSON object, or undefined (an empty body is `{}`). */
async function readObject(request: Request): Promise<Record<string, unknown> | undefined> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The broker's answer headers POST /exchange passes on: the ones a caller acts on (docs/api.md). */
const PASSED_HEADERS = ["x-request-id", "retry-after", "cache-control"] as const;

/** POST /token: claim overrides as a JSON object -> {"token": "..."} for the broker's audience. */
export async function mintToken(issuer: FakeIssuer, request: Request): Promise<Response> {
  const overrides = await readObject(request);
  if (overrides === undefined) return invalid("body must be a JSON object of claim overrides");
  return json({ token: await issuer.mint(overrides) });
}

/**
 * POST /exchange: {"claims"?: {...}, "role"?: "...", "duration_seconds"?: n} -> mints a token with those claims and
 * posts it to the broker's /v1/credentials; answers the broker's status and body as they are, with the headers a client
 * acts on (X-Request-Id, Retry-After on 429/503, Cache-Control).
 */
export async function mintAndExchange(
  issuer: FakeIssuer,
  brokerUrl: string,
  fetcher: typeof fetch,
  request: Request,
): Promise<Response> {
  const body = await readObject(request);
  if (body === undefined)
    return invalid('body must be a JSON object: {"claims"?: {...}, "role"?: "...", "duration_seconds"?: n}');
  const { claims = {}, ...rest } = body;
  const unknown = Object.keys(rest).filter((key) => key !== "role" && key !== "duration_seconds");
  if (unknown.length > 0)
    return invalid(`unknown field(s) ${unknown.join(", ")}: claims, role and duration_seconds are accepted`);
  if (typeof claims !== "object" || claims === null || Array.isArray(claims))
    return invalid("claims must be a JSON object of claim overrides");
  const token = await issuer.mint(claims as Record<string, unknown>);
  const answer = await fetcher(`${brokerUrl}/v1/credentials`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, ...rest }),
  });
  const headers = new Headers({ "content-type": answer.headers.get("content-type") ?? "application/json" });
  for (const name of PASSED_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(await answer.text(), { status: answer.status, headers });
}

/**
 * GET /_apis/oidc/token?audience=<aud> with `Authorization: bearer sandbox`: {"value": "<jwt>"}, as the runner answers.
 */
export async function actionsToken(issuer: FakeIssuer, request: Request): Promise<Response> {
  if (request.method !== "GET") return json({ message: "GET only" }, 405);
  if (request.headers.get("authorization") !== `bearer ${SANDBOX_ACTIONS_REQUEST_TOKEN}`)
    return json({ message: "bad request token" }, 401);
  const audience = new URL(request.url).searchParams.get("audience");
  return json({ value: await issuer.mint(audience === null || audience === "" ? {} : { aud: audience }) });
}
