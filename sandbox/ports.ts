// Whether the sandbox's fixed ports are free before `npm start` starts anything: a second `npm start` (or anything
// else on 8787/8788) gets one line naming the port and what to do, instead of a stack trace. Node only (node:net).
import { createServer } from "node:net";
import { portInUseMessage } from "./start-args.ts";

/** Binds `port` on `host` and lets go at once: the only sure test that a listener could start there. */
function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** The line to print for the first of `ports` that cannot be listened on, or undefined when all are free. */
export async function portProblem(host: string, ports: readonly number[]): Promise<string | undefined> {
  for (const port of ports) {
    const error = await tryListen(host, port);
    if (error === undefined) continue;
    return error.code === "EADDRINUSE"
      ? portInUseMessage(host, port)
      : `npm start: cannot listen on ${host}:${port} (${error.code ?? error.message})`;
  }
  return undefined;
}
