// Claim value shapes the platforms' schemas share, and the one way platform code reads a claim it did not type.
// Pure; no I/O; no clock.
import * as z from "zod/mini";
import type { ClaimRecord } from "./platform.ts";

/**
 * A non-empty claim string. z.string() never coerces: an array, number or null is rejected,
 * so `"repository": ["acme/app"]` cannot sneak past a string pattern match in the policy.
 */
export const text = z.string().check(z.minLength(1));
/** A claim that may legitimately be empty: GitHub sends `head_ref: ""` and `base_ref: ""` on push events. */
export const optionalText = z.optional(z.string());
/** Numeric ids as strings of decimal digits ("repository_id": "123456"), as both platforms send them. */
export const digits = z.string().check(z.regex(/^[0-9]{1,20}$/));

/** A claim as a string when it is an own string property; undefined otherwise. */
export function claimString(claims: ClaimRecord, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  return typeof value === "string" ? value : undefined;
}
