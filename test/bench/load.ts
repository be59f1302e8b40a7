// The benchmark's HTTP client: sends a fixed number of requests at a fixed concurrency over keep-alive
// connections (node:http) and records each request's latency and status. The same client drives every Worker.
import http from "node:http";

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Origin of the workerd server (Miniflare's `ready` URL). */
  origin: URL;
  /** Requests in flight at once (one keep-alive connection each). */
  concurrency: number;
  requests: number;
  /** The i-th request (0-based). Called just before it is sent; must be cheap (tokens are pre-minted). */
  request: (index: number) => LoadRequest;
  agent: http.Agent;
  /** Answers with another status are failures: their bodies are kept (the first few). Default 200. */
  expectStatus?: number;
}

export interface FailedResponse {
  status: number;
  body: string;
}

export interface LoadResult {
  requests: number;
  wallMs: number;
  /** One entry per request, in completion order. */
  latenciesMs: Float64Array;
  /** Count per HTTP status; status 0 means the request failed without a response (socket error). */
  statuses: Map<number, number>;
  /** The first few answers with an unexpected status, for the diagnostic output. */
  failures: FailedResponse[];
}

const MAX_KEPT_FAILURES = 5;
const MAX_KEPT_BODY_CHARS = 500;

/** A keep-alive agent with one socket per concurrent request: connections are reused across requests. */
export function keepAliveAgent(concurrency: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
}

function send(
  options: LoadOptions,
  spec: LoadRequest,
  expectStatus: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = http.request(
      {
        agent: options.agent,
        host: options.origin.hostname,
        port: options.origin.port,
        method: spec.method,
        path: spec.path,
        headers:
          spec.body === undefined ? spec.headers : { ...spec.headers, "content-length": Buffer.byteLength(spec.body) },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The body must be read to the end for the socket to go back to the pool; keep it only when it is a failure.
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => {
          if (status !== expectStatus) chunks.push(chunk);
        });
        response.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (error) => resolve({ status: 0, body: String(error) }));
      },
    );
    request.on("error", (error) => resolve({ status: 0, body: String(error) }));
    request.end(spec.body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs = new Float64Array(options.requests);
  const statuses = new Map<number, number>();
  const failures: FailedResponse[] = [];
  const expectStatus = options.expectStatus ?? 200;
  let next = 0;
  let done = 0;

  async function lane(): Promise<void> {
    while (next < options.requests) {
      const index = next++;
      const spec = options.request(index);
      const started = performance.now();
      const { status, body } = await send(options, spec, expectStatus);
      latenciesMs[done++] = performance.now() - started;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== expectStatus && failures.length < MAX_KEPT_FAILURES)
        failures.push({ status, body: body.slice(0, MAX_KEPT_BODY_CHARS) });
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, lane));
  const wallMs = performance.now() - started;
  return { requests: options.requests, wallMs, latenciesMs, statuses, failures };
}

/** Answers whose status was not `expectStatus`. */
export function unexpectedCount(result: LoadResult, expectStatus = 200): number {
  return result.requests - (result.statuses.get(expectStatus) ?? 0);
}
