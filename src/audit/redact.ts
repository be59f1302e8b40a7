// Secret-shaped text never reaches a log line or the audit dataset. Pure; no I/O.
// Defence in depth: no stage logs a token or a credential on purpose, but claim values are attacker-influenced text
// and an unexpected error's message may quote its input. Only the secret-shaped substring is masked: the rest of the
// value (the owner of a repository named like a key id, the prefix of a branch) stays readable (docs/security.md).

/**
 * A GitHub token, whole (`ghs_` installation tokens, classic or stateless `ghs_` + JWT with its dots; `ghp_`, `gho_`,
 * `ghu_`, `ghr_`, `github_pat_`), a role or policy ARN, whole (it names an account), an AWS access key id
 * (sts:GetAccessKeyInfo names its account), or a JWT (header.payload.signature). Global: every occurrence in a value
 * is masked; GitHub's shape first, so a stateless token's prefix goes with its JWT.
 */
const SECRET_SHAPES = [
  /\b(?:gh[pousr]|github_pat)_[\w.-]{16,}/g,
  /arn:aws[a-z-]*:[\w+=,.@:/*-]*/gi,
  /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}/g,
  /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
];
export const REDACTED = "[redacted]";

/** The value with every secret-shaped substring replaced by REDACTED. `replace` resets a global regex's state. */
function mask(value: string): string {
  let out = value;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  return out;
}

/** The value with its secret-shaped substrings masked (undefined stays undefined). */
export function scrub(value: string | undefined): string | undefined {
  return value === undefined ? undefined : mask(value);
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return mask(value);
  if (depth === 0 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth - 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, depth - 1)]));
}

/** Wraps a log function so every string in a line (nested objects too, a few levels deep) is checked first. */
export function redactingLog(log: (line: Record<string, unknown>) => void): (line: Record<string, unknown>) => void {
  return (line) => log(redactValue(line, 4) as Record<string, unknown>);
}
