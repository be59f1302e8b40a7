// Settings parsing shared by both Workers' configurations (the request Worker's config.ts, the alert cron's
// alerts/config.ts): JSON-valued vars, and the config_invalid error that names bad settings, never their values.
import * as z from "zod/mini";
import { BrokerError, type BrokerReason } from "./errors.ts";

/** A string holding JSON, parsed (also ALERT_RULES, src/alerts/config.ts). */
export const jsonString = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.issues.push({ code: "custom", message: "not valid JSON", input: value });
      return z.NEVER;
    }
  }),
);

const INVALID_SETTINGS_PREFIX = "invalid settings: ";

/** `config_invalid` naming the bad settings (never their values); `issues` are zod's, named by their path. */
export function invalidSettings(
  reason: BrokerReason,
  names: ReadonlyArray<string> | { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey> }> },
): BrokerError {
  const list = "issues" in names ? [...new Set(names.issues.map((issue) => issue.path.map(String).join(".")))] : names;
  return new BrokerError("config_invalid", reason, { cause: `${INVALID_SETTINGS_PREFIX}${list.join(",")}` });
}

/**
 * The settings an `invalidSettings` error names, as paths: a variable (`AWS_REGION`) or a place in one
 * (`ISSUERS.0.audiences`).
 */
export function invalidSettingPaths(error: BrokerError): string[] {
  const cause =
    typeof error.cause === "string" && error.cause.startsWith(INVALID_SETTINGS_PREFIX)
      ? error.cause.slice(INVALID_SETTINGS_PREFIX.length)
      : "";
  return cause.split(",").filter((path) => path !== "");
}
