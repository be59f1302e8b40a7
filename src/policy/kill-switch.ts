// The kill switch: an operator denies an issuer, a repository, an owner or an actor (GitLab: project, namespace, user)
// by writing one KV key, checked on every request after verification. I/O only through the injected KV; clock injected.
//
// Keys live in the JWKS_CACHE namespace under `killswitch:` (the JWKS cache uses `jwks:v1:`), so no namespace has to
// be provisioned for an emergency tool. Any value marks the key (write the incident id). Names are lower-cased:
// folding can only widen a denial, never grant, and spares an operator in a hurry from matching GitHub's casing.
// Ids are exact. Fail closed: a KV error is `upstream_unavailable` (503 + Retry-After), never credentials.
// The keys not remembered in this isolate are read in one bulk KV read (one subrequest, however many keys).
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import {
  KILL_SWITCH_CACHE_MAX_ENTRIES,
  KILL_SWITCH_CACHE_MS,
  KILL_SWITCH_KV_CACHE_TTL_SECONDS,
  KV_BULK_GET_MAX_KEYS,
  KV_MAX_KEY_BYTES,
  MAX_UTF8_BYTES_PER_UTF16_UNIT,
} from "./constants.ts";
import type { Clock } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { ClaimSubject } from "../oidc/claims.ts";
import { platformOf, type IssuerKind } from "../platforms/index.ts";

export const KILL_SWITCH_PREFIX = "killswitch:";

/** Stable internal reasons of a kill-switch denial (public code: `forbidden`). */
export type KillSwitchReason =
  | "kill_switch_issuer"
  | "kill_switch_repository"
  | "kill_switch_owner"
  | "kill_switch_actor";

/**
 * The part of a Workers KV namespace the kill switch reads: the bulk read, a Map with every asked key (null when not
 * set). `KVNamespace` satisfies it.
 */
export interface KillSwitchKv {
  get(keys: string[], options: { type: "text"; cacheTtl?: number }): Promise<Map<string, string | null>>;
}

export interface KillSwitchLookup {
  key: string;
  reason: KillSwitchReason;
}

const utf8 = new TextEncoder();

/** The keys to look up for one verified token, most general first. Pure. */
export function killSwitchKeys(issuerId: string, kind: IssuerKind, subject: ClaimSubject): KillSwitchLookup[] {
  const lower = (text: string) => text.toLowerCase();
  // The platform's nouns (`repo`/`owner`/`actor`, GitLab `project`/`namespace`/`user`) and the owners whose denial
  // reaches the token (a GitLab namespace's ancestors: killing a group kills its subgroups).
  const names = platformOf(kind).killSwitch;
  const lookups: KillSwitchLookup[] = [
    { key: `issuer:${issuerId}`, reason: "kill_switch_issuer" },
    ...names
      .owners(lower(subject.owner))
      .map((owner): KillSwitchLookup => ({ key: `${names.owner}:${owner}`, reason: "kill_switch_owner" })),
    { key: `${names.owner}-id:${subject.ownerId}`, reason: "kill_switch_owner" },
    { key: `${names.repository}:${lower(subject.repository)}`, reason: "kill_switch_repository" },
    { key: `${names.repository}-id:${subject.repositoryId}`, reason: "kill_switch_repository" },
    { key: `${names.actor}:${lower(subject.actor)}`, reason: "kill_switch_actor" },
    { key: `${names.actor}-id:${subject.actorId}`, reason: "kill_switch_actor" },
  ];
  // A key longer than KV allows can never have been written: asking for it would only make KV throw.
  return lookups
    .map(({ key, reason }) => ({ key: `${KILL_SWITCH_PREFIX}${key}`, reason }))
    .filter(
      ({ key }) =>
        key.length * MAX_UTF8_BYTES_PER_UTF16_UNIT <= KV_MAX_KEY_BYTES ||
        utf8.encode(key).byteLength <= KV_MAX_KEY_BYTES,
    );
}

export interface KillSwitchOptions {
  kv: KillSwitchKv;
  now: Clock;
  /** How long a lookup (hit or miss) is trusted in this isolate; default KILL_SWITCH_CACHE_MS. */
  cacheMs?: number;
}

export interface KillSwitch {
  /**
   * Throws `forbidden` (kill_switch_*) when a key is set, `upstream_unavailable` (kill_switch_unavailable) when KV
   * fails.
   */
  check(issuerId: string, kind: IssuerKind, subject: ClaimSubject): Promise<void>;
}

export function createKillSwitch(options: KillSwitchOptions): KillSwitch {
  const { kv, now } = options;
  const cacheMs = options.cacheMs ?? KILL_SWITCH_CACHE_MS;
  const memo = new Map<string, { at: number; set: boolean }>();

  /** Reads `keys` from KV (bulk, at most KV_BULK_GET_MAX_KEYS a call) and remembers each answer at `at`. */
  async function readInto(found: Map<string, boolean>, keys: string[], at: number): Promise<void> {
    for (let start = 0; start < keys.length; start += KV_BULK_GET_MAX_KEYS) {
      const batch = keys.slice(start, start + KV_BULK_GET_MAX_KEYS);
      const values = await kv.get(batch, { type: "text", cacheTtl: KILL_SWITCH_KV_CACHE_TTL_SECONDS });
      if (memo.size + batch.length > KILL_SWITCH_CACHE_MAX_ENTRIES) memo.clear();
      for (const key of batch) {
        // A key the answer leaves out is not an answer: fail closed rather than read it as "not set".
        const value = values.get(key);
        if (value === undefined) throw new Error("KV bulk read left a key out");
        memo.set(key, { at, set: value !== null });
        found.set(key, value !== null);
      }
    }
  }

  return {
    async check(issuerId, kind, subject) {
      const lookups = killSwitchKeys(issuerId, kind, subject);
      const at = now();
      const found = new Map<string, boolean>();
      const missing: string[] = [];
      for (const { key } of lookups) {
        const cached = memo.get(key);
        if (cached !== undefined && at - cached.at < cacheMs) found.set(key, cached.set);
        else missing.push(key);
      }
      if (missing.length > 0) {
        try {
          await readInto(found, missing, at);
        } catch (error) {
          throw new BrokerError("upstream_unavailable", "kill_switch_unavailable", {
            retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
            cause: error,
          });
        }
      }
      const hit = lookups.find(({ key }) => found.get(key) === true);
      if (hit !== undefined) throw new BrokerError("forbidden", hit.reason);
    },
  };
}
