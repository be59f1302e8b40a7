// Secret-shaped text never reaches a log line or the audit dataset. Pure; no I/O.
// Defence in depth: no stage logs a token or a credential on purpose, but claim values are attacker-influenced text
// and an unexpected error's message may quote its input.

/** A role ARN (names an account), an AWS access key id, or a JWT. */
const SECRET_SHAPES = [/arn:aws[a-z-]*:/i, /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}/, /eyJ[\w-]{4,}\.[\w-]{4,}\./];
export const REDACTED = "[redacted]";

export function looksSecret(value: string): boolean {
  return SECRET_SHAPES.some((shape) => shape.test(value));
}

/** The value, or REDACTED when it looks like a secret. */
export function scrub(value: string | undefined): string | undefined {
  return value !== undefined && looksSecret(value) ? REDACTED : value;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return looksSecret(value) ? REDACTED : value;
  if (depth === 0 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth - 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, depth - 1)]));
}

/** Wraps a log function so every string in a line (nested objects too, a few levels deep) is checked first. */
export function redactingLog(log: (line: Record<string, unknown>) => void): (line: Record<string, unknown>) => void {
  return (line) => log(redactValue(line, 4) as Record<string, unknown>);
}
