// The running sandbox broker's local KV (JWKS_CACHE, env sandbox), through wrangler's own `kv key` commands on the
// state directory `npm start` gives wrangler dev. Node I/O; used by the sandbox CLI.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { SandboxPaths } from "./paths.ts";

const run = promisify(execFile);

async function kv(paths: SandboxPaths, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
  const { stdout } = await run(
    process.execPath,
    [
      paths.wranglerBin,
      "kv",
      "key",
      ...args,
      "--binding",
      "JWKS_CACHE",
      "--env",
      "sandbox",
      "--local",
      "--persist-to",
      paths.state,
    ],
    { cwd: paths.root, env },
  );
  return stdout;
}

export async function kvPut(paths: SandboxPaths, key: string, value: string): Promise<void> {
  await kv(paths, ["put", key, value]);
}

export async function kvDelete(paths: SandboxPaths, key: string): Promise<void> {
  await kv(paths, ["delete", key]);
}

export async function kvList(paths: SandboxPaths, prefix: string): Promise<string[]> {
  const stdout = await kv(paths, ["list", "--prefix", prefix]);
  const start = stdout.indexOf("[");
  const keys = JSON.parse(start === -1 ? "[]" : stdout.slice(start)) as Array<{ name: string }>;
  return keys.map((key) => key.name);
}
