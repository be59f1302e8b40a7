// The audit docs name what the code writes: the `credential_exchange` log line's fields (docs/audit-export.md, what a
// SIEM parses from Logpush) and the Analytics Engine columns (docs/audit.md). Runs in Node; reads the docs only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import type { ExchangeEvent } from "../../src/audit/event.ts";
import { AUDIT_BLOBS, AUDIT_DOUBLES } from "../../src/audit/schema.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const page = (name: string) => readFileSync(join(repoRoot, "docs", name), "utf8");

/** Every field of the event, checked by the compiler: a field added to ExchangeEvent fails `npm run typecheck` here. */
const EXCHANGE_EVENT_FIELDS = {
  request_id: true,
  kind: true,
  outcome: true,
  code: true,
  reason: true,
  issuer: true,
  repository: true,
  ref: true,
  event_name: true,
  rule_id: true,
  role_alias: true,
  token_sha256: true,
  status: true,
  total_ms: true,
  verify_ms: true,
  admission_ms: true,
  sts_ms: true,
  sts_attempts: true,
  context_facts: true,
  github_ms: true,
  github_rate_remaining: true,
  github_token: true,
  github_repositories: true,
  github_permissions: true,
  minted_sha256: true,
} as const satisfies Record<keyof ExchangeEvent, true>;

/** The first column of the markdown table that follows `heading`, backticks stripped. */
function tableColumn(text: string, heading: string): string[] {
  const section = text.slice(text.indexOf(heading));
  const table = /\n(\|[^\n]*\|\n)+/.exec(section)?.[0] ?? "";
  return [...table.matchAll(/^\| `([^`]+)` \|/gm)].map(([, name]) => name as string);
}

it("docs/audit-export.md lists exactly the credential_exchange line's fields (the event, plus `message`)", () => {
  // src/audit/event.ts logSink: { message: "credential_exchange", ...event }.
  expect(tableColumn(page("audit-export.md"), "### The `credential_exchange` line")).toEqual([
    "message",
    ...Object.keys(EXCHANGE_EVENT_FIELDS),
  ]);
});

it("docs/audit.md's schema table names every blob and double at its position", () => {
  const rows = [...page("audit.md").matchAll(/^\| `((?:blob|double)\d+)` \| (\w+) \|/gm)].map(
    ([, column, field]) => `${column}=${field}`,
  );
  expect(rows).toEqual([
    ...AUDIT_BLOBS.map((field, i) => `blob${i + 1}=${field}`),
    ...AUDIT_DOUBLES.map((field, i) => `double${i + 1}=${field}`),
  ]);
});
