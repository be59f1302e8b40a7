// `npm run -s sandbox -- github-token <name> [--claim name=value]...`: mints a sandbox OIDC token with those claims,
// asks the running broker for GitHub token grant <name>, and, when granted, shows what the token reaches on the fake
// GitHub API (each granted repository, and one it was not granted), revokes it, and shows it refused
// (docs/github-tokens.md).
// The token itself is never printed in full. The steps take their I/O as arguments (github-token-command.test.ts).
import { SANDBOX_PORT } from "../src/cli/constants.ts";
import { SANDBOX_BROKER_PORT } from "./constants.ts";
import { SANDBOX_HOST } from "./paths.ts";

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The repository the demo probes as "not granted": the sandbox token's own (no grant of the example names it). */
const UNGRANTED_PROBE = "acme/app";

export function parseClaims(args: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const pair = args[i + 1];
    const eq = pair?.indexOf("=") ?? -1;
    if (args[i] !== "--claim" || pair === undefined || eq <= 0)
      throw new Error("expected github-token <name> [--claim name=value]...");
    claims[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return claims;
}

/** What a holder of the token sees: one line per call, status only. */
export async function demonstrateGrant(
  name: string,
  mintToken: () => Promise<string>,
  brokerFetch: Fetch,
  apiFetch: Fetch,
): Promise<{ lines: string[]; granted: boolean }> {
  const oidc = await mintToken();
  const response = await brokerFetch("/v1/github-token", {
    method: "POST",
    headers: { authorization: `Bearer ${oidc}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200 || typeof body.token !== "string" || typeof body.api_url !== "string") {
    return {
      lines: [
        `POST /v1/github-token ${name}: ${response.status} ${JSON.stringify(body)}`,
        "(the reason is in the broker's log line, by request_id: `npm start` prints it)",
      ],
      granted: false,
    };
  }
  const { token, api_url: apiUrl } = body as { token: string; api_url: string };
  const lines = [
    `POST /v1/github-token ${name}: 200 token ${token.slice(0, 8)}… expires ${String(body.expires_at)}`,
    `  permissions ${JSON.stringify(body.permissions)}, repositories ${JSON.stringify(body.repositories)}`,
  ];
  const headers = {
    authorization: `Bearer ${token}`,
    accept: "application/vnd.github+json",
    "user-agent": "ccb-sandbox",
  };
  const probe = async (repository: string) =>
    `  GET ${apiUrl}/repos/${repository}: ${(await apiFetch(`${apiUrl}/repos/${repository}`, { headers })).status}`;
  const repositories = Array.isArray(body.repositories) ? (body.repositories as string[]) : [];
  for (const repository of repositories) lines.push(await probe(repository));
  if (!repositories.includes(UNGRANTED_PROBE)) lines.push(`${await probe(UNGRANTED_PROBE)} (not granted)`);
  lines.push(
    `  DELETE ${apiUrl}/installation/token: ${(await apiFetch(`${apiUrl}/installation/token`, { method: "DELETE", headers })).status} (revoked, as the Action's post step does)`,
  );
  if (repositories[0] !== undefined) lines.push(`${await probe(repositories[0])} (after revocation)`);
  return { lines, granted: true };
}

/** The sandbox CLI's `github-token` subcommand (sandbox/cli.ts). */
export const githubTokenCommand = {
  usage: "github-token <name> [--claim name=value]...",
  summary: "ask the broker for a GitHub token grant with a sandbox token of those claims; use it, revoke it",
  needsSandbox: true,
  async run(args: string[]): Promise<number> {
    const [name, ...rest] = args;
    if (name === undefined || name.startsWith("-"))
      throw new Error("expected github-token <name> [--claim name=value]...");
    const claims = parseClaims(rest);
    const origin = process.env.SANDBOX_URL ?? `http://${SANDBOX_HOST}:${SANDBOX_PORT}`;
    const broker = `http://${SANDBOX_HOST}:${SANDBOX_BROKER_PORT}`;
    const mintToken = async () => {
      const minted = (await (
        await fetch(`${origin}/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(claims),
        })
      ).json()) as { token: string };
      return minted.token;
    };
    const result = await demonstrateGrant(
      name,
      mintToken,
      (path, init) => fetch(`${broker}${path}`, init),
      (url, init) => fetch(url, init),
    );
    console.log(result.lines.join("\n"));
    return result.granted ? 0 : 1;
  },
};
