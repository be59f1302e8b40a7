// The Workers Analytics Engine SQL API over the local engine, as Cloudflare documents it
// (developers.cloudflare.com/analytics/analytics-engine/sql-api/): POST the SQL as the body, or GET `?query=` (what
// the Altinity Grafana plugin sends, with `/?query=` appended to the datasource URL), `Authorization: Bearer <token>`;
// FORMAT JSON answers {meta, data, rows}; a query error is plain text with a 4xx status. Platform-neutral handler.
import { LOCAL_SQL_MAX_BODY_BYTES } from "./constants.ts";
import type { EngineAnswer } from "./engine.ts";

export interface LocalSqlApiOptions {
  accountId: string;
  apiToken: string;
  /** The engine's query function, or the one-line reason local analytics is off (answered as 503). */
  engine: { query(sql: string): EngineAnswer } | { off: string };
}

/** Cloudflare's API error envelope (authentication and routing errors are JSON; query errors are text). */
function cfError(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

const SQL_PATH = /^\/client\/v4\/accounts\/([^/]+)\/analytics_engine\/sql\/?$/;

/** True when the request is for the SQL API path (of any account): the sandbox routes these here. */
export function isSqlApiPath(pathname: string): boolean {
  return SQL_PATH.test(pathname);
}

export function createLocalSqlApi(options: LocalSqlApiOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const account = SQL_PATH.exec(url.pathname)?.[1];
    if (account === undefined) return cfError(404, 7003, "Could not route to the requested path");
    if (request.method !== "POST" && request.method !== "GET") return cfError(405, 10405, "Method not allowed");
    if (request.headers.get("authorization") !== `Bearer ${options.apiToken}` || account !== options.accountId)
      return cfError(401, 10000, "Authentication error");
    let sql = url.searchParams.get("query") ?? "";
    if (request.method === "POST") {
      const body = await request.text();
      if (body.length > LOCAL_SQL_MAX_BODY_BYTES) return text(413, `query over ${LOCAL_SQL_MAX_BODY_BYTES} bytes`);
      if (body.trim() !== "") sql = body;
    }
    if (sql.trim() === "") return text(400, "no query: send the SQL as the POST body or as ?query=");
    if ("off" in options.engine) return text(503, `local analytics is off: ${options.engine.off}`);
    const answer = options.engine.query(sql);
    if (!answer.ok) return text(answer.status, answer.message);
    return new Response(answer.body, { status: 200, headers: { "content-type": answer.contentType } });
  };
}
