// The core of `npm run analytics -- <query> [arg] [--since 1h] [--format table|json|csv] [--dataset name]`: parse
// arguments, run the named query's statements against the SQL API, render. Fetch, env and clock are injected; no
// node:*.
import { AUDIT_DATASET_DEFAULT, SANDBOX_AUDIT_DATASET } from "../audit/constants.ts";
import { SANDBOX_ANALYTICS_ACCOUNT_ID, SANDBOX_ANALYTICS_API_TOKEN, SANDBOX_PORT } from "./constants.ts";
import type { Clock, FetchFn } from "../deps.ts";
import {
  defaultSinceMinutes,
  LOOKUP_QUERIES,
  parseSince,
  planQuery,
  QUERY_DESCRIPTIONS,
  QUERY_NAMES,
  QueryInputError,
  type QueryName,
} from "../audit/queries.ts";
import { shapeResult } from "../audit/query-shape.ts";
import { isAccountId, isDatasetName, runSql, SqlApiError } from "../audit/sql-api.ts";
import { renderCsv, renderHuman, renderJson, type OutputFormat } from "./render.ts";

export interface CliArgs {
  query: QueryName;
  argument: string | undefined;
  sinceMinutes: number;
  sinceLabel: string;
  format: OutputFormat;
  dataset: string | undefined;
}

export interface CliDeps {
  argv: string[];
  env: Record<string, string | undefined>;
  fetch: FetchFn;
  now: Clock;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const USAGE = [
  "usage: npm run analytics -- <query> [argument] [--since 1h] [--format table|json|csv] [--dataset name]",
  "",
  "queries:",
  ...QUERY_NAMES.map((name) => `  ${name.padEnd(10)} ${QUERY_DESCRIPTIONS[name]}`),
  "",
  "  --since    window: 30m, 6h, 7d (default 1h; 7d for request, token and repository)",
  "  --format   table (default), json or csv",
  `  --dataset  Analytics Engine dataset (default $AUDIT_DATASET or ${AUDIT_DATASET_DEFAULT})`,
  "",
  "environment: CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN (Account Analytics: Read); with neither set, the",
  `local Analytics Engine of a running \`npm start\` (http://127.0.0.1:${SANDBOX_PORT}, dataset ${SANDBOX_AUDIT_DATASET})`,
].join("\n");

class UsageError extends Error {}

/** argv (after `--`) -> arguments. Throws UsageError with a message for the user. */
export function parseArgs(argv: string[]): CliArgs | "help" {
  const positional: string[] = [];
  let since: string | undefined;
  let format: OutputFormat = "table";
  let dataset: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === "--help" || flag === "-h") return "help";
    else if (flag === "--since") since = value();
    else if (flag === "--format") {
      const chosen = value();
      if (chosen !== "table" && chosen !== "json" && chosen !== "csv")
        throw new UsageError("--format must be table, json or csv");
      format = chosen;
    } else if (flag === "--dataset") dataset = value();
    else if (flag.startsWith("-")) throw new UsageError(`unknown option ${flag}`);
    else positional.push(arg);
  }
  if (positional.length === 0) return "help";
  const query = positional[0] as string;
  if (!(QUERY_NAMES as readonly string[]).includes(query))
    throw new UsageError(`unknown query ${JSON.stringify(query)}`);
  const name = query as QueryName;
  const needsArgument = LOOKUP_QUERIES.includes(name);
  if (positional.length > (needsArgument ? 2 : 1))
    throw new UsageError(`unexpected argument ${JSON.stringify(positional[needsArgument ? 2 : 1])}`);
  if (needsArgument && positional[1] === undefined) throw new UsageError(`${name} needs an argument`);
  let sinceMinutes: number;
  try {
    sinceMinutes = since === undefined ? defaultSinceMinutes(name) : parseSince(since);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const sinceLabel =
    since ??
    (sinceMinutes % 1440 === 0
      ? `${sinceMinutes / 1440}d`
      : sinceMinutes % 60 === 0
        ? `${sinceMinutes / 60}h`
        : `${sinceMinutes}m`);
  return { query: name, argument: positional[1], sinceMinutes, sinceLabel, format, dataset };
}

const fail = (message: string, exitCode = 2): CliResult => ({ exitCode, stdout: "", stderr: `${message}\n` });

/** The sandbox's local SQL API (npm start): the Cloudflare API's paths on the sandbox port. */
const SANDBOX_API_BASE_URL = `http://127.0.0.1:${SANDBOX_PORT}/client/v4`;

/**
 * Which SQL API to ask: the account in the environment; with neither variable set, the sandbox's local Analytics
 * Engine (so `npm run analytics` answers about `npm start` traffic, offline). One variable alone is a mistake, not a
 * wish for the sandbox: it is reported as missing the other.
 */
function sqlTarget(env: CliDeps["env"]): { accountId: string; apiToken: string; sandbox: boolean } {
  const accountId = env.CLOUDFLARE_ACCOUNT_ID?.trim() ?? "";
  const apiToken = env.CLOUDFLARE_API_TOKEN?.trim() ?? "";
  if (accountId === "" && apiToken === "")
    return { accountId: SANDBOX_ANALYTICS_ACCOUNT_ID, apiToken: SANDBOX_ANALYTICS_API_TOKEN, sandbox: true };
  return { accountId, apiToken, sandbox: false };
}

export async function runAnalyticsCli(deps: CliDeps): Promise<CliResult> {
  let args: CliArgs | "help";
  try {
    args = parseArgs(deps.argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(`${error.message}\n\n${USAGE}`);
    throw error;
  }
  if (args === "help") return { exitCode: 0, stdout: `${USAGE}\n`, stderr: "" };

  const target = sqlTarget(deps.env);
  const { accountId, apiToken } = target;
  const dataset =
    args.dataset ??
    (deps.env.AUDIT_DATASET?.trim() || (target.sandbox ? SANDBOX_AUDIT_DATASET : AUDIT_DATASET_DEFAULT));
  const missing = [
    accountId === "" ? "CLOUDFLARE_ACCOUNT_ID" : undefined,
    apiToken === "" ? "CLOUDFLARE_API_TOKEN" : undefined,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) return fail(`set ${missing.join(" and ")} (an API token with Account Analytics: Read)`);
  if (!isAccountId(accountId)) return fail("CLOUDFLARE_ACCOUNT_ID must be the 32-hex-character account id");
  if (!isDatasetName(dataset)) return fail("the dataset name must be a SQL identifier (letters, digits, underscore)");

  let plan;
  try {
    plan = planQuery({
      name: args.query,
      dataset,
      sinceMinutes: args.sinceMinutes,
      ...(args.argument === undefined ? {} : { argument: args.argument }),
    });
  } catch (error) {
    if (error instanceof QueryInputError) return fail(error.message);
    throw error;
  }

  const nowMs = deps.now();
  const results = [];
  try {
    for (const statement of plan.statements)
      results.push(
        await runSql(statement.sql, {
          accountId,
          apiToken,
          fetch: deps.fetch,
          ...(target.sandbox ? { baseUrl: SANDBOX_API_BASE_URL } : {}),
        }),
      );
  } catch (error) {
    if (
      error instanceof SqlApiError &&
      target.sandbox &&
      error.reason === "unavailable" &&
      error.status === undefined
    ) {
      return fail(
        `set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (an API token with Account Analytics: Read), or run \`npm start\` to query the sandbox's own traffic: no sandbox answers at ${SANDBOX_API_BASE_URL}`,
      );
    }
    if (error instanceof SqlApiError) return fail(error.message, 1);
    throw error;
  }
  const table = shapeResult(plan, results, { sinceMinutes: args.sinceMinutes, nowMs });

  // Say where the answer came from when it is the sandbox: on stderr, so json and csv output stay as they are.
  const stderr = target.sandbox
    ? `(no Cloudflare account configured: the local Analytics Engine of npm start, dataset ${dataset})\n`
    : "";
  if (args.format === "json")
    return {
      exitCode: 0,
      stdout: `${renderJson(table, { query: args.query, sinceMinutes: args.sinceMinutes })}\n`,
      stderr,
    };
  if (args.format === "csv") return { exitCode: 0, stdout: `${renderCsv(table.columns, table.rows)}\r\n`, stderr };
  let text = renderHuman(table, { sinceLabel: args.sinceLabel });
  if (table.shape === "record" && table.rows.length === 0) {
    text += `\n\nNothing found. Widen --since, check --dataset, or search Workers Logs for the request_id: Analytics Engine may sample rows at high volume.`;
  }
  return { exitCode: 0, stdout: `${text}\n`, stderr };
}
