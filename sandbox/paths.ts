// Where the sandbox's pieces are, as absolute paths: `npm start` and `npm run sandbox` agree on them, and the
// commands they print work from any directory.
import { fileURLToPath } from "node:url";

/** The sandbox listens on loopback only. */
export const SANDBOX_HOST = "127.0.0.1";

export interface SandboxPaths {
  /** The project directory (with a trailing slash). */
  root: string;
  wranglerBin: string;
  /** The running broker's local KV and Durable Object state (wrangler dev --persist-to), emptied at every start. */
  state: string;
  /** Secrets for `wrangler dev --env sandbox` (git-ignored). */
  devVars: string;
  /** The committed client bundle a sandbox AWS profile runs. */
  clientCli: string;
}

export function sandboxPaths(): SandboxPaths {
  const at = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
  return {
    root: at(""),
    wranglerBin: at("node_modules/wrangler/bin/wrangler.js"),
    state: at(".wrangler/sandbox"),
    devVars: at(".dev.vars.sandbox"),
    clientCli: at("client-dist/cli.mjs"),
  };
}
