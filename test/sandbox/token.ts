// `npm run token -- --claim key=value ...`: prints a sandbox OIDC token (GitHub-shaped, broker audience).
import { SANDBOX_PORT } from "../../src/cli/constants.ts";

const overrides: Record<string, string> = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i] as string;
  const value = arg === "--claim" ? args[++i] : arg.startsWith("--claim=") ? arg.slice("--claim=".length) : undefined;
  const eq = value?.indexOf("=") ?? -1;
  if (value === undefined || eq <= 0) {
    console.error("usage: npm run token -- [--claim name=value]...");
    process.exit(2);
  }
  overrides[value.slice(0, eq)] = value.slice(eq + 1);
}

const sandbox = process.env.SANDBOX_URL ?? `http://127.0.0.1:${SANDBOX_PORT}`;
let response: Response;
try {
  response = await fetch(`${sandbox}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(overrides),
  });
} catch {
  console.error(`sandbox not reachable at ${sandbox}: run \`npm start\` first`);
  process.exit(1);
}
const body = (await response.json()) as { token?: string };
if (!response.ok || typeof body.token !== "string") {
  console.error(`sandbox refused: ${JSON.stringify(body)}`);
  process.exit(1);
}
console.log(body.token);
