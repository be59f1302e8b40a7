// The GitHub token answer read strictly, the git host of an API base, the exchange's retries on /v1/github-token
// (the same loop as credentials), and revocation outcomes.
import { describe, expect, it } from "vitest";
import { classifyAnswer } from "../../src/client/broker-answer.ts";
import { ClientError } from "../../src/client/errors.ts";
import { brokerEndpoint } from "../../src/client/broker-endpoint.ts";
import {
  fetchGithubToken,
  GITHUB_TOKEN_ANSWER,
  gitRemoteOf,
  parseGithubToken,
  revokeGithubToken,
} from "../../src/client/github-token.ts";
import { brokerError, GHS, isoSeconds, json, scripted, START_MS, tokenBody } from "./helpers.ts";

/** The stateless format GitHub is rolling out: `ghs_<app id>_<JWT>`, about 520 characters with two dots. */
const STATELESS = `ghs_424243_${"eyJhbGciOiJSUzI1NiJ9"}.${"eyJpc3MiOiJnaXRodWIifQ".repeat(12)}.${"c2lnbmF0dXJl".repeat(20)}`;

function notToken(body: unknown): string {
  try {
    parseGithubToken(typeof body === "string" ? body : JSON.stringify(body), START_MS);
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe("not_credentials");
    return (error as ClientError).message;
  }
  throw new Error("accepted");
}

describe("parseGithubToken", () => {
  it("reads the broker's answer, both token formats, and ignores members it does not know", () => {
    expect(parseGithubToken(JSON.stringify(tokenBody({ request_note: "x" })), START_MS)).toEqual({
      token: GHS,
      expiresAt: isoSeconds(START_MS + 3_600_000),
      expiresAtMs: START_MS + 3_600_000,
      permissions: { contents: "write", metadata: "read", pull_requests: "write" },
      repositories: ["acme/homebrew-tap"],
      apiUrl: "https://api.github.com",
    });
    expect(STATELESS.length).toBeGreaterThan(500);
    expect(
      parseGithubToken(
        JSON.stringify(tokenBody({ token: STATELESS, api_url: "https://ghes.example/api/v3/" })),
        START_MS,
      ),
    ).toMatchObject({ token: STATELESS, apiUrl: "https://ghes.example/api/v3" });
  });

  it.each([
    ["not JSON", "<html>"],
    ["duplicate members", `{"token":"${GHS}","token":"${GHS}"}`],
    ["an array", []],
    ["no token", { ...tokenBody(), token: undefined }],
    ["a PAT, not an installation token", tokenBody({ token: `ghp_${"a".repeat(36)}` })],
    ["a token with a newline", tokenBody({ token: `${GHS}\n::add-mask::x` })],
    ["an expired token", tokenBody({ expires_at: isoSeconds(START_MS - 1000) })],
    ["a token for more than the hour", tokenBody({ expires_at: isoSeconds(START_MS + 2 * 3_600_000) })],
    ["no repositories", tokenBody({ repositories: [] })],
    ["a bare repository name", tokenBody({ repositories: ["homebrew-tap"] })],
    ["an unknown permission level", tokenBody({ permissions: { contents: "owner" } })],
    ["an http API URL", tokenBody({ api_url: "http://api.github.com" })],
    ["an API URL with credentials", tokenBody({ api_url: "https://user:pass@api.github.com" })],
    ["an API URL with a query", tokenBody({ api_url: "https://api.github.com/?x=1" })],
  ])("refuses %s", (_name, body) => {
    const message = notToken(body);
    expect(message).not.toContain(GHS);
  });
});

describe("gitRemoteOf", () => {
  it.each([
    ["https://api.github.com", "https", "github.com"],
    ["https://api.octocorp.ghe.com", "https", "octocorp.ghe.com"],
    ["https://ghes.example/api/v3", "https", "ghes.example"],
    ["https://ghes.example:8443/api/v3", "https", "ghes.example:8443"],
    ["http://127.0.0.1:8788/api/v3", "http", "127.0.0.1:8788"],
  ])("%s -> %s://%s", (apiUrl, protocol, host) => {
    expect(gitRemoteOf(apiUrl)).toEqual({ protocol, host });
  });
});

describe("fetchGithubToken", () => {
  const endpoint = brokerEndpoint("https://broker.example", "/v1/github-token");

  it("POSTs the grant's name with the OIDC token as Bearer, and reads the answer", async () => {
    const broker = scripted([json(tokenBody())]);
    const { token, requestId } = await fetchGithubToken({ endpoint, name: "homebrew-tap" }, broker.deps);
    expect(endpoint.href).toBe("https://broker.example/v1/github-token");
    expect(broker.requests[0]?.headers.get("authorization")).toBe(`Bearer ${broker.minted[0]}`);
    expect(JSON.parse(broker.bodies[0] ?? "")).toEqual({ name: "homebrew-tap" });
    expect(token.token).toBe(GHS);
    expect(requestId).toBe("11111111-2222-3333-4444-555555555555");
  });

  it("waits the broker's Retry-After on 429, with a fresh OIDC token for the retry", async () => {
    const broker = scripted([brokerError("rate_limited", 429, { "retry-after": "3" }), json(tokenBody())], {
      random: 0,
    });
    await fetchGithubToken({ endpoint, name: "homebrew-tap" }, broker.deps);
    expect(broker.sleeps).toEqual([3000]);
    expect(broker.minted).toHaveLength(2);
    expect(broker.requests[1]?.headers.get("authorization")).toBe(`Bearer ${broker.minted[1]}`);
  });

  it("maps a denial to forbidden (exit 6) naming the GitHub token, and a 503 to broker_unavailable", async () => {
    const denied = await fetchGithubToken(
      { endpoint, name: "homebrew-tap" },
      scripted([brokerError("forbidden", 403)]).deps,
    ).catch((error: unknown) => error);
    expect(denied).toMatchObject({ code: "forbidden", exitCode: 6 });
    expect((denied as Error).message).toContain("the GitHub token it asked for");
    const outcome = classifyAnswer(
      503,
      new Headers({ "retry-after": "5" }),
      JSON.stringify({ error: "upstream_unavailable", request_id: "r-1" }),
      START_MS,
      GITHUB_TOKEN_ANSWER,
    );
    expect(outcome).toMatchObject({ kind: "retry", retryAfterMs: 5000 });
    if (outcome.kind === "retry") expect(outcome.error.message).toContain("GitHub API");
  });
});

describe("revokeGithubToken", () => {
  const request = { token: GHS, apiUrl: "https://ghes.example/api/v3" };
  const answering = (status: number | Error) => {
    const seen: Request[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      if (status instanceof Error) throw status;
      return new Response(status === 204 ? null : "{}", { status });
    };
    return { seen, fetch };
  };

  it("DELETEs {api_url}/installation/token with the token itself; 204 is revoked", async () => {
    const github = answering(204);
    expect(await revokeGithubToken(request, github.fetch)).toBe("revoked");
    expect(github.seen[0]?.method).toBe("DELETE");
    expect(github.seen[0]?.url).toBe("https://ghes.example/api/v3/installation/token");
    expect(github.seen[0]?.headers.get("authorization")).toBe(`Bearer ${GHS}`);
    expect(github.seen[0]?.headers.get("x-github-api-version")).toBe("2022-11-28");
  });

  it("401 means no longer valid; anything else, or no answer, is a failure named without the token", async () => {
    expect(await revokeGithubToken(request, answering(401).fetch)).toBe("already_invalid");
    expect(await revokeGithubToken(request, answering(500).fetch)).toEqual({ failed: "HTTP 500" });
    expect(await revokeGithubToken(request, answering(new TypeError("fetch failed")).fetch)).toEqual({
      failed: "no answer",
    });
  });
});
