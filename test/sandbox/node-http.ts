// Serves a Fetch-style handler (Request -> Response) over node:http, for the local sandbox.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type FetchHandler = (request: Request) => Promise<Response>;

async function toRequest(message: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = message.method ?? "GET";
  return new Request(new URL(message.url ?? "/", origin), {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? null : body,
  });
}

async function sendResponse(response: Response, out: ServerResponse): Promise<void> {
  out.statusCode = response.status;
  for (const [name, value] of response.headers) out.setHeader(name, value);
  out.end(Buffer.from(await response.arrayBuffer()));
}

export function serve(handler: FetchHandler, host: string, port: number): Promise<Server> {
  const origin = `http://${host}:${port}`;
  const server = createServer((message, out) => {
    toRequest(message, origin)
      .then(handler)
      .then((response) => sendResponse(response, out))
      .catch((error: unknown) => {
        out.statusCode = 500;
        out.end(
          JSON.stringify({ error: "sandbox_error", message: error instanceof Error ? error.message : String(error) }),
        );
      });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
