// In-process fakes for the client's Node tests, on one ephemeral port: GitHub Actions' OIDC token endpoint, the
// broker's POST /v1/github-token (and /v1/credentials) as docs/api.md specifies them, and GitHub's token revocation.
// They follow the contract, not an implementation: single-use OIDC tokens (token_reused), errors as
// {error, message, request_id} with Cache-Control: no-store, Retry-After on 429/503, 204 on revocation, 401 after it.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Grant {
  owner: string;
  repositories: string[];
  permissions: Record<string, string>;
}

/** What the next broker answer should be instead of a token (consumed in order). */
export type Scripted = { status: 429 | 503; retryAfterSeconds: number } | { status: 403 };

export interface FakeServices {
  origin: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN for the runner environment. */
  requestUrl: string;
  requestToken: string;
  /** The API base the broker names in its answers (GHES form, so git's host is this server). */
  apiUrl: string;
  grants: Map<string, Grant>;
  /** Lifetime of the installation tokens the broker hands out. */
  lifetimeMs: number;
  scripted: Scripted[];
  /** Every broker request: route, grant name asked for, the OIDC token's jti, status answered. */
  brokerCalls: Array<{ route: string; name: string | undefined; jti: string | undefined; status: number }>;
  /** OIDC tokens the Actions endpoint handed out. */
  oidcTokens: string[];
  /** Installation tokens handed out, and those revoked (with the token itself). */
  minted: string[];
  revoked: string[];
  revocationCalls: number;
  /** Mints an OIDC token outside the Actions endpoint (a GitLab `id_tokens` variable). */
  oidcToken(): string;
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const GRANT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

export async function startFakeServices(): Promise<FakeServices> {
  const requestToken = `request-token-${randomUUID()}`;
  const issued = new Set<string>();
  const used = new Set<string>();
  const live = new Set<string>();
  let origin = "";
  const oidcToken = () => {
    const jti = randomUUID();
    issued.add(jti);
    const token = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ jti, aud: "ci-credential-broker", sub: "repo:acme/app:ref:refs/tags/v1.2.3" })}.${Buffer.from("sig").toString("base64url")}`;
    services.oidcTokens.push(token);
    return token;
  };

  function brokerError(
    response: ServerResponse,
    status: number,
    error: string,
    headers: Record<string, string> = {},
  ): number {
    const requestId = randomUUID();
    send(
      response,
      status,
      { error, message: "fixed public text", request_id: requestId },
      { "x-request-id": requestId, ...headers },
    );
    return status;
  }

  /** POST /v1/github-token and /v1/credentials: the token in `Authorization: Bearer` or the body, never both. */
  async function broker(request: IncomingMessage, response: ServerResponse, route: string): Promise<void> {
    const text = await readBody(request);
    let body: Record<string, unknown> = {};
    let jti: string | undefined;
    let name: string | undefined;
    const answer = (): number => {
      if (request.method !== "POST") return brokerError(response, 405, "method_not_allowed", { allow: "POST" });
      if (text !== "") {
        if (!(request.headers["content-type"] ?? "").startsWith("application/json"))
          return brokerError(response, 415, "unsupported_media_type");
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return brokerError(response, 400, "invalid_request");
        }
      }
      const allowed = route === "/v1/github-token" ? ["token", "name"] : ["token", "role", "duration_seconds"];
      if (Object.keys(body).some((key) => !allowed.includes(key))) return brokerError(response, 400, "invalid_request");
      const header = request.headers.authorization;
      if (header !== undefined && body.token !== undefined) return brokerError(response, 400, "invalid_request");
      const token =
        header?.startsWith("Bearer ") === true
          ? header.slice("Bearer ".length)
          : typeof body.token === "string"
            ? body.token
            : undefined;
      if (token === undefined) return brokerError(response, 400, "invalid_request");
      try {
        jti = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { jti?: string })
          .jti;
      } catch {
        jti = undefined;
      }
      if (jti === undefined || !issued.has(jti)) return brokerError(response, 401, "invalid_token");
      if (route === "/v1/github-token") {
        name = typeof body.name === "string" ? body.name : undefined;
        if (name === undefined || !GRANT_NAME.test(name)) return brokerError(response, 400, "invalid_request");
      }
      const next = services.scripted.shift();
      if (next !== undefined && next.status === 403) return brokerError(response, 403, "forbidden");
      // Single use per (iss, jti), whatever is asked for: a refused or retried request spends its token too.
      if (used.has(jti)) return brokerError(response, 401, "token_reused");
      used.add(jti);
      if (next !== undefined)
        return brokerError(response, next.status, next.status === 429 ? "rate_limited" : "upstream_unavailable", {
          "retry-after": String(next.retryAfterSeconds),
        });
      const requestId = randomUUID();
      if (route === "/v1/credentials") {
        send(
          response,
          200,
          {
            Version: 1,
            AccessKeyId: "ASIAEXAMPLE0000001",
            SecretAccessKey: "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY40",
            SessionToken: `IQoJb3JpZ2luX2VjEXAMPLE${"A".repeat(600)}==`,
            Expiration: new Date(Date.now() + 900_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
          },
          { "x-request-id": requestId },
        );
        return 200;
      }
      const grant = services.grants.get(name as string);
      if (grant === undefined) return brokerError(response, 403, "forbidden");
      const minted = `ghs_${randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`;
      live.add(minted);
      services.minted.push(minted);
      send(
        response,
        200,
        {
          token: minted,
          expires_at: new Date(Date.now() + services.lifetimeMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: { ...grant.permissions, metadata: "read" },
          repositories: grant.repositories.map((repository) => `${grant.owner}/${repository}`),
          api_url: services.apiUrl,
        },
        { "x-request-id": requestId },
      );
      return 200;
    };
    const status = answer();
    services.brokerCalls.push({ route, name, jti, status });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", origin);
    if (url.pathname === "/_apis/oidc/token") {
      await readBody(request);
      if (request.headers.authorization !== `bearer ${requestToken}`)
        return send(response, 401, { message: "bad request token" });
      if (url.searchParams.get("api-version") !== "2.0" || !url.searchParams.get("audience"))
        return send(response, 400, { message: "bad query" });
      return send(response, 200, { value: oidcToken() });
    }
    if (url.pathname === "/v1/github-token" || url.pathname === "/v1/credentials")
      return broker(request, response, url.pathname);
    if (url.pathname === "/api/v3/installation/token") {
      // GitHub's "Revoke an installation access token": DELETE with the token itself; 204, then the token is dead.
      await readBody(request);
      services.revocationCalls++;
      const token = request.headers.authorization?.replace(/^(Bearer|token) /, "") ?? "";
      if (request.method !== "DELETE") return send(response, 404, { message: "Not Found" });
      if (!live.has(token))
        return send(response, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      live.delete(token);
      services.revoked.push(token);
      response.writeHead(204);
      return void response.end();
    }
    send(response, 404, { message: "Not Found" });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  const services: FakeServices = {
    origin,
    requestUrl: `${origin}/_apis/oidc/token?api-version=2.0`,
    requestToken,
    apiUrl: `${origin}/api/v3`,
    grants: new Map<string, Grant>([
      [
        "homebrew-tap",
        { owner: "acme", repositories: ["homebrew-tap"], permissions: { contents: "write", pull_requests: "write" } },
      ],
      ["private-deps", { owner: "acme", repositories: ["private-lib"], permissions: { contents: "read" } }],
    ]),
    lifetimeMs: 3_600_000,
    scripted: [],
    brokerCalls: [],
    oidcTokens: [],
    minted: [],
    revoked: [],
    revocationCalls: 0,
    oidcToken,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return services;
}
