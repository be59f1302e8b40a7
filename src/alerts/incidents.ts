// Alert cooldown: one incident, one message. An incident opens when a rule fires with no open incident, and stays open
// while the rule keeps firing; it closes after a full cooldown without firing. State lives in KV; decisions are pure.
import { ALERT_KV_PREFIX, KV_MIN_EXPIRATION_TTL_SECONDS } from "../constants.ts";
import type { RuleName } from "./rules.ts";

/** Stored per rule and dataset. Times are ms since the epoch by the cron's scheduled time (not KV's clock). */
export interface IncidentState {
  opened_at: number;
  last_fired_at: number;
  notified_at: number;
}

/** The KV calls we make; JWKS_CACHE in production (distinct `alerts:` prefix; its keys start with `jwks:`). */
export interface IncidentStore {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

/** One incident per rule, or per rule and subject (the replay rule's repository), so each repository alerts on its own. */
export function incidentKey(dataset: string, rule: RuleName, subject?: string): string {
  return `${ALERT_KV_PREFIX}${dataset}:${rule}${subject === undefined ? "" : `:${encodeURIComponent(subject)}`}`;
}

export function parseIncident(text: string | null): IncidentState | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<IncidentState>;
    if (typeof value.opened_at === "number" && typeof value.last_fired_at === "number" && typeof value.notified_at === "number") {
      return { opened_at: value.opened_at, last_fired_at: value.last_fired_at, notified_at: value.notified_at };
    }
  } catch {
    // Unreadable state is no state: at worst one extra message.
  }
  return undefined;
}

/**
 * A firing rule at `nowMs`: notify if no incident is open (none stored, or the last firing is a full cooldown ago);
 * otherwise stay quiet and extend the open incident. Pure.
 */
export function onFiring(state: IncidentState | undefined, nowMs: number, cooldownMs: number): { notify: boolean; state: IncidentState } {
  if (state === undefined || nowMs - state.last_fired_at >= cooldownMs) {
    return { notify: true, state: { opened_at: nowMs, last_fired_at: nowMs, notified_at: nowMs } };
  }
  return { notify: false, state: { ...state, last_fired_at: nowMs } };
}

/** KV expiration for a state: outlives the cooldown (so the decision above, not KV, closes incidents); KV's minimum is 60 s. */
export function incidentTtlSeconds(cooldownMs: number): number {
  return Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, Math.ceil(cooldownMs / 1000) * 2);
}
