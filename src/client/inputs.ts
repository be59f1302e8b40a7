// Validates what a user gives the client (Action inputs or CLI flags): audience, role alias, grant name, duration,
// region.
// Pure; no I/O. Each failure is a `usage` ClientError naming the input, so the fix is obvious.
import { DEFAULT_AUDIENCE, MAX_AUDIENCE_CHARS, MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from "./constants.ts";
import { ClientError } from "./errors.ts";

/**
 * The broker's role alias and grant name rule (src/http/credential-request.ts): checked here too so a typo fails before
 * a token is spent.
 */
const ROLE_ALIAS = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/**
 * An audience is a name or a URL. No shell or quoting characters: it is written into the `credential_process` line,
 * which botocore splits like a shell command and workflows often paste into a heredoc.
 */
const AUDIENCE = /^[A-Za-z0-9._~:/?@+,=%-]+$/;

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

export function parseAudience(value: string | undefined, inputName: string): string {
  const audience = blankToUndefined(value) ?? DEFAULT_AUDIENCE;
  if (audience.length > MAX_AUDIENCE_CHARS || !AUDIENCE.test(audience)) {
    throw new ClientError(
      "usage",
      `${inputName} must be a name or URL (letters, digits and . _ ~ : / ? @ + , = % -), at most ${MAX_AUDIENCE_CHARS} characters.`,
    );
  }
  return audience;
}

export function parseRole(value: string | undefined, inputName: string): string | undefined {
  const role = blankToUndefined(value);
  if (role !== undefined && !ROLE_ALIAS.test(role)) {
    throw new ClientError(
      "usage",
      `${inputName} must be a role alias from the broker's policy (lower-case letters, digits, - and _), not an ARN.`,
    );
  }
  return role;
}

/**
 * A GitHub token grant's name: the broker's grant-name rule (src/policy/github-tokens.ts), checked before a token is
 * spent.
 */
export function parseGrantName(value: string | undefined, inputName: string): string {
  const name = requireValue(value, inputName);
  if (!ROLE_ALIAS.test(name))
    throw new ClientError(
      "usage",
      `${inputName} must be a GitHub token grant name from the broker's policy (lower-case letters, digits, - and _).`,
    );
  return name;
}

export function parseDuration(value: string | undefined, inputName: string): number | undefined {
  const text = blankToUndefined(value);
  if (text === undefined) return undefined;
  const seconds = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(seconds) || seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    throw new ClientError(
      "usage",
      `${inputName} must be whole seconds from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} (AWS STS limits).`,
    );
  }
  return seconds;
}

export function parseRegion(value: string | undefined, inputName: string): string | undefined {
  const region = blankToUndefined(value);
  if (region !== undefined && !REGION.test(region))
    throw new ClientError("usage", `${inputName} must be an AWS region name such as us-east-1.`);
  return region;
}

/**
 * One setting under two input names: ours and the alias aws-actions/configure-aws-credentials users know
 * (docs/clients.md
 * "Migrating"), so a copied workflow works. Both given with different values is a usage error, never a silent pick.
 */
export function aliasedValue(
  value: string | undefined,
  inputName: string,
  aliasValue: string | undefined,
  aliasName: string,
): string | undefined {
  const own = blankToUndefined(value);
  const alias = blankToUndefined(aliasValue);
  if (own !== undefined && alias !== undefined && own !== alias) {
    throw new ClientError(
      "usage",
      `${inputName} and ${aliasName} (its alias) are both set, to different values: set only one.`,
    );
  }
  return own ?? alias;
}

export function requireValue(value: string | undefined, inputName: string): string {
  const text = blankToUndefined(value);
  if (text === undefined) throw new ClientError("usage", `${inputName} is required.`);
  return text;
}
