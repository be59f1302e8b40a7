// Alert cooldown: one incident, one message. An incident opens when a rule fires with no open incident, and stays open
// while the rule keeps firing; it closes after a full cooldown without firing. While open it notifies again only when
// its value has grown by ALERT_ESCALATION_FACTOR since the last message. State lives in KV; decisions are pure.
import { sha256HexPrefix } from "../http/sha256-prefix.ts";
import { KV_MIN_EXPIRATION_TTL_SECONDS } from "../constants.ts";
import { ALERT_ESCALATION_FACTOR, ALERT_KV_PREFIX, ALERT_SUBJECT_HASH_HEX_CHARS } from "./constants.ts";

/** Stored per incident and dataset. Times are ms since the epoch by the cron's scheduled time (not KV's clock). */
export interface IncidentState {
  opened_at: number;
  last_fired_at: number;
  notified_at: number;
  /** The value the last message reported; absent in state written before escalation existed. */
  notified_value?: number;
}

/** The KV calls we make; JWKS_CACHE in production (distinct `alerts:` prefix; its keys start with `jwks:`). */
export interface IncidentStore {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

/** One incident per rule (or per other incident name, such as `alerting`) and dataset. */
export function incidentKey(dataset: string, name: string): string {
  return `${ALERT_KV_PREFIX}${dataset}:${name}`;
}

/**
 * The key of a per-subject incident (denials of one owner for one reason): the subject is attacker-chosen text of any
 * length, so it is hashed (SHA-256, hex prefix): bounded, KV-safe, and no chosen name can collide with another's.
 */
export async function subjectIncidentKey(dataset: string, name: string, subject: string | undefined): Promise<string> {
  if (subject === undefined) return incidentKey(dataset, name);
  return `${incidentKey(dataset, name)}:${await sha256HexPrefix(subject, ALERT_SUBJECT_HASH_HEX_CHARS)}`;
}

export function parseIncident(text: string | null): IncidentState | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<IncidentState>;
    if (
      typeof value.opened_at === "number" &&
      typeof value.last_fired_at === "number" &&
      typeof value.notified_at === "number"
    ) {
      const state: IncidentState = {
        opened_at: value.opened_at,
        last_fired_at: value.last_fired_at,
        notified_at: value.notified_at,
      };
      if (typeof value.notified_value === "number" && Number.isFinite(value.notified_value))
        state.notified_value = value.notified_value;
      return state;
    }
  } catch {
    // Unreadable state is no state: at worst one extra message.
  }
  return undefined;
}

/**
 * A firing at `nowMs` with measured `value`: notify if no incident is open (none stored, or the last firing is a full
 * cooldown ago), or if the open incident's value reached ALERT_ESCALATION_FACTOR times the last notified value (a real
 * spike on top of a trickle must not stay quiet); otherwise stay quiet and extend the open incident. Pure.
 */
export function onFiring(
  state: IncidentState | undefined,
  nowMs: number,
  cooldownMs: number,
  value: number,
): { notify: boolean; escalated: boolean; state: IncidentState } {
  if (state === undefined || nowMs - state.last_fired_at >= cooldownMs) {
    return {
      notify: true,
      escalated: false,
      state: { opened_at: nowMs, last_fired_at: nowMs, notified_at: nowMs, notified_value: value },
    };
  }
  const last = state.notified_value;
  if (last !== undefined && last > 0 && value >= last * ALERT_ESCALATION_FACTOR) {
    return {
      notify: true,
      escalated: true,
      state: { ...state, last_fired_at: nowMs, notified_at: nowMs, notified_value: value },
    };
  }
  return { notify: false, escalated: false, state: { ...state, last_fired_at: nowMs } };
}

/**
 * KV expiration for a state: outlives the cooldown (so the decision above, not KV, closes incidents); KV's minimum is
 * 60 s.
 */
export function incidentTtlSeconds(cooldownMs: number): number {
  return Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, Math.ceil(cooldownMs / 1000) * 2);
}
