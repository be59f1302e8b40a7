import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";
import { actionsToken, mintAndExchange, SANDBOX_ACTIONS_TOKEN_PATH } from "../../sandbox/endpoints.ts";

const ORIGIN = "http://127.0.0.1:8788";
const BROKER = "http://127.0.0.1:8787";

async function setup() {
  const issuer = await createFakeIssuer({ issuer: ORIGIN });
  const sent: Array<{ url: string; body: Record<string, unknown> }> = [];
  const broker = (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(input), body: JSON.parse(String(init?.body)) as Record<string, unknown> });
    return new Response('{"error":"forbidden","request_id":"r-1"}', {
      status: 403,
      headers: { "content-type": "application/json", "x-request-id": "r-1" },
    });
  }) as typeof fetch;
  return { issuer, sent, broker };
}

const post = (body: string) => new Request(`${ORIGIN}/exchange`, { method: "POST", body });

describe("POST /exchange", () => {
  it("mints a token with the claims asked for, sends it with role and duration to the broker, and answers the broker's status and body", async () => {
    const { issuer, sent, broker } = await setup();
    const answer = await mintAndExchange(
      issuer,
      BROKER,
      broker,
      post('{"claims": {"runner_environment": "self-hosted"}, "role": "deploy", "duration_seconds": 3600}'),
    );
    expect([answer.status, answer.headers.get("x-request-id"), await answer.text()]).toEqual([
      403,
      "r-1",
      '{"error":"forbidden","request_id":"r-1"}',
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(`${BROKER}/v1/credentials`);
    expect(sent[0]?.body).toMatchObject({ role: "deploy", duration_seconds: 3600 });
    expect(decodeJwt(String(sent[0]?.body.token))).toMatchObject({ iss: ORIGIN, runner_environment: "self-hosted" });
  });

  it("passes on the headers a caller acts on: Retry-After of a 429, Cache-Control, X-Request-Id; no others", async () => {
    const issuer = await createFakeIssuer({ issuer: ORIGIN });
    const broker = (async () =>
      new Response('{"error":"rate_limited","request_id":"r-2"}', {
        status: 429,
        headers: {
          "content-type": "application/json",
          "x-request-id": "r-2",
          "retry-after": "7",
          "cache-control": "no-store",
          "set-cookie": "a=b",
        },
      })) as typeof fetch;
    const answer = await mintAndExchange(issuer, BROKER, broker, post("{}"));
    expect(answer.status).toBe(429);
    expect([
      answer.headers.get("retry-after"),
      answer.headers.get("cache-control"),
      answer.headers.get("x-request-id"),
      answer.headers.get("set-cookie"),
    ]).toEqual(["7", "no-store", "r-2", null]);
  });

  it("takes an empty body as the default token, and refuses what it cannot send (400, nothing sent)", async () => {
    const { issuer, sent, broker } = await setup();
    expect((await mintAndExchange(issuer, BROKER, broker, post(""))).status).toBe(403);
    for (const body of ["{", "[]", '{"claims": []}', '{"claims": "x"}', '{"claimz": {}}']) {
      expect((await mintAndExchange(issuer, BROKER, broker, post(body))).status, body).toBe(400);
    }
    expect(sent).toHaveLength(1);
  });
});

describe("GET /_apis/oidc/token (the Actions ID-token endpoint)", () => {
  const get = (audience: string, authorization?: string) =>
    new Request(
      `${ORIGIN}${SANDBOX_ACTIONS_TOKEN_PATH}?api-version=2.0&audience=${audience}`,
      authorization === undefined ? {} : { headers: { authorization } },
    );

  it("answers {value} with a token for the audience asked for, to the sandbox request token only", async () => {
    const { issuer } = await setup();
    const answer = await actionsToken(issuer, get("ci-credential-broker", "bearer sandbox"));
    expect(answer.status).toBe(200);
    const { value } = (await answer.json()) as { value: string };
    expect(decodeJwt(value).aud).toBe("ci-credential-broker");
    expect((await actionsToken(issuer, get("x", "bearer other"))).status).toBe(401);
    expect((await actionsToken(issuer, get("x"))).status).toBe(401);
    expect(
      (await actionsToken(issuer, new Request(`${ORIGIN}${SANDBOX_ACTIONS_TOKEN_PATH}`, { method: "POST" }))).status,
    ).toBe(405);
  });
});
