// An in-process network for tests and the sandbox: routes each request by origin to a handler.
// Any request to an origin nobody registered fails loudly, so no test can reach the internet.
// Platform-neutral (Workers runtime and Node).

export type Handler = (request: Request) => Response | Promise<Response>;

export interface RecordedCall {
  method: string;
  url: string;
}

export interface FakeNetwork {
  /** A fetch function to inject wherever the broker takes `fetch`. */
  fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /** Register (or replace) the handler for an origin such as "https://sts.us-east-1.amazonaws.com". */
  route(origin: string, handler: Handler): void;
  /** Every request made, in order. */
  readonly calls: RecordedCall[];
  /** Calls whose URL starts with `prefix`. */
  callsTo(prefix: string): RecordedCall[];
}

export function createFakeNetwork(routes: Record<string, Handler> = {}): FakeNetwork {
  const handlers = new Map<string, Handler>(
    Object.entries(routes).map(([origin, handler]) => [new URL(origin).origin, handler]),
  );
  const calls: RecordedCall[] = [];
  return {
    calls,
    route(origin, handler) {
      handlers.set(new URL(origin).origin, handler);
    },
    callsTo(prefix) {
      return calls.filter((call) => call.url.startsWith(prefix));
    },
    async fetch(input, init) {
      const request = new Request(input, init);
      calls.push({ method: request.method, url: request.url });
      const handler = handlers.get(new URL(request.url).origin);
      if (handler === undefined) throw new TypeError(`fake network: no route for ${new URL(request.url).origin}`);
      if (request.signal.aborted) throw request.signal.reason;
      return await handler(request);
    },
  };
}
