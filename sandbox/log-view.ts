// What `npm start` shows of the broker's output: one concise line per credential exchange (time, status, code, reason,
// rule, role, repository, request id) and per shadow-mode difference; wrangler's start-up chatter dropped; anything
// else (a warning, an error, another Worker log line) passed through as it is. `--verbose` passes everything.
// Pure; no I/O; the clock is injected. docs/sandbox.md "One line per exchange".

export interface LogViewOptions {
  verbose: boolean;
  /** The time printed on each exchange line (the log line carries none). */
  now: () => Date;
}

/** A log view: fed the child's output one line at a time; returns what to print, or undefined to drop it. */
export type LogView = (line: string) => string | undefined;

/** Colour escapes: wrangler colours its output even into a pipe. */
const ANSI = /\u001b\[[0-9;]*m/g;

/** Lines wrangler prints while starting or reloading at log level "log": nothing a sandbox user needs. */
const CHATTER: RegExp[] = [
  /^\s*⛅️ wrangler /,
  /^─+$/,
  /^Using secrets defined in /,
  /^⎔ (Starting|Reloading|Shutting down) local server/,
  /^⎔ Local server updated and ready/,
  /^\[wrangler:(info|debug)\] /,
];
const BINDINGS_HEADING = /^Your Worker has access to the following bindings:/;

type Fields = Record<string, unknown>;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined;
}

function clockTime(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/**
 * `200 issued rule=… role=… repository=… request_id=…` or `403 forbidden reason=… rule=… repository=… request_id=…`;
 * a GitHub token exchange adds `kind=github_token` (and `grant=…` once allowed).
 */
export function exchangeLine(event: Fields, at: Date): string {
  const parts = [clockTime(at), text(event.status) ?? "-", text(event.code) ?? "issued"];
  const reason = text(event.reason);
  if (reason !== undefined) parts.push(`reason=${reason}`);
  const rule = text(event.rule_id);
  if (rule !== undefined) parts.push(`rule=${rule}`);
  const role = text(event.role_alias);
  if (role !== undefined) parts.push(`role=${role}`);
  // POST /v1/github-token: the kind, and the grant once allowed (never the token).
  if (event.kind === "github_token") parts.push(`kind=github_token`);
  const grant = text(event.github_token);
  if (grant !== undefined) parts.push(`grant=${grant}`);
  parts.push(`repository=${text(event.repository) ?? "-"}`, `request_id=${text(event.request_id) ?? "-"}`);
  return parts.join(" ");
}

function side(decision: unknown): string {
  if (typeof decision !== "object" || decision === null) return "-";
  const d = decision as Fields;
  if (d.allowed === true)
    return ["allow", text(d.rule_id), text(d.role)].filter((part) => part !== undefined).join(":");
  return ["deny", text(d.reason), text(d.rule_id)].filter((part) => part !== undefined).join(":");
}

/** `shadow live=deny:no_matching_rule candidate=allow:acme-app-main-deploy:deploy repository=… ref=… request_id=…`. */
export function shadowLine(event: Fields, at: Date): string {
  return [
    clockTime(at),
    "shadow",
    `live=${side(event.live)}`,
    `candidate=${side(event.candidate)}`,
    `repository=${text(event.repository) ?? "-"}`,
    `ref=${text(event.ref) ?? "-"}`,
    `request_id=${text(event.request_id) ?? "-"}`,
  ].join(" ");
}

function parseLogObject(line: string): Fields | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      typeof (value as Fields).message === "string"
      ? (value as Fields)
      : undefined;
  } catch {
    return undefined;
  }
}

export function createLogView(options: LogViewOptions): LogView {
  let inBindingsTable = false;
  return (raw) => {
    if (options.verbose) return raw;
    const line = raw.replace(ANSI, "").trimEnd();
    if (inBindingsTable) {
      if (line.trim() !== "") return undefined;
      inBindingsTable = false;
    }
    if (line.trim() === "") return undefined;
    if (BINDINGS_HEADING.test(line)) {
      inBindingsTable = true;
      return undefined;
    }
    if (CHATTER.some((pattern) => pattern.test(line))) return undefined;
    const event = parseLogObject(line.trim());
    if (event?.message === "credential_exchange") return exchangeLine(event, options.now());
    if (event?.message === "policy_shadow") return shadowLine(event, options.now());
    return raw;
  };
}
