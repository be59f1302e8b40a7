// The kill switch: an operator denies an issuer, a repository, an owner or an actor (GitLab: project, namespace, user)
// by writing one KV key, checked on every request after verification. I/O only through the injected KV; clock injected.
//
// Keys live in the JWKS_CACHE namespace under `killswitch:` (the JWKS cache uses `jwks:v1:`), so no namespace has to
// be provisioned for an emergency tool. Any value marks the key (write the incident id). Names are lower-cased:
// folding can only widen a denial, never grant, and spares an operator in a hurry from matching GitHub's casing.
// Ids are exact. Fail closed: a KV error is `upstream_unavailable` (503 + Retry-After), never credentials.
import {
  KILL_SWITCH_CACHE_MAX_ENTRIES,
  KILL_SWITCH_CACHE_MS,
  KILL_SWITCH_KV_CACHE_TTL_SECONDS,
  KILL_SWITCH_MAX_NAMESPACE_DEPTH,
  KV_MAX_KEY_BYTES,
  UPSTREAM_RETRY_AFTER_SECONDS,
} from "../constants.ts";
import type { Clock } from "../deps.ts";
import { BrokerError } from "../errors.ts";
import type { ClaimSubject } from "../oidc/claims.ts";
import type { IssuerKind } from "../oidc/issuers.ts";

export const KILL_SWITCH_PREFIX = "killswitch:";

/** Stable internal reasons of a kill-switch denial (public code: `forbidden`). */
export type KillSwitchReason = "kill_switch_issuer" | "kill_switch_repository" | "kill_switch_owner" | "kill_switch_actor";

/** The part of a Workers KV namespace the kill switch reads. `KVNamespace` satisfies it. */
export interface KillSwitchKv {
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
}

export interface KillSwitchLookup {
  key: string;
  reason: KillSwitchReason;
}

const utf8 = new TextEncoder();

/** GitLab namespace `a/b/c` -> `a`, `a/b`, `a/b/c`: killing a group kills its subgroups. */
function ancestors(path: string): string[] {
  const parts = path.split("/").slice(0, KILL_SWITCH_MAX_NAMESPACE_DEPTH);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

/** The keys to look up for one verified token, most general first. Pure. */
export function killSwitchKeys(issuerId: string, kind: IssuerKind, subject: ClaimSubject): KillSwitchLookup[] {
  const lower = (text: string) => text.toLowerCase();
  const names =
    kind === "gitlab"
      ? { repo: "project", owner: "namespace", actor: "user", owners: ancestors(lower(subject.owner)) }
      : { repo: "repo", owner: "owner", actor: "actor", owners: [lower(subject.owner)] };
  const lookups: KillSwitchLookup[] = [
    { key: `issuer:${issuerId}`, reason: "kill_switch_issuer" },
    ...names.owners.map((owner): KillSwitchLookup => ({ key: `${names.owner}:${owner}`, reason: "kill_switch_owner" })),
    { key: `${names.owner}-id:${subject.ownerId}`, reason: "kill_switch_owner" },
    { key: `${names.repo}:${lower(subject.repository)}`, reason: "kill_switch_repository" },
    { key: `${names.repo}-id:${subject.repositoryId}`, reason: "kill_switch_repository" },
    { key: `${names.actor}:${lower(subject.actor)}`, reason: "kill_switch_actor" },
    { key: `${names.actor}-id:${subject.actorId}`, reason: "kill_switch_actor" },
  ];
  // A key longer than KV allows can never have been written: asking for it would only make KV throw.
  return lookups
    .map(({ key, reason }) => ({ key: `${KILL_SWITCH_PREFIX}${key}`, reason }))
    .filter(({ key }) => utf8.encode(key).byteLength <= KV_MAX_KEY_BYTES);
}

export interface KillSwitchOptions {
  kv: KillSwitchKv;
  now: Clock;
  /** How long a lookup (hit or miss) is trusted in this isolate; default KILL_SWITCH_CACHE_MS. */
  cacheMs?: number;
}

export interface KillSwitch {
  /** Throws `forbidden` (kill_switch_*) when a key is set, `upstream_unavailable` (kill_switch_unavailable) when KV fails. */
  check(issuerId: string, kind: IssuerKind, subject: ClaimSubject): Promise<void>;
}

export function createKillSwitch(options: KillSwitchOptions): KillSwitch {
  const { kv, now } = options;
  const cacheMs = options.cacheMs ?? KILL_SWITCH_CACHE_MS;
  const memo = new Map<string, { at: number; set: boolean }>();

  async function isSet(key: string, at: number): Promise<boolean> {
    const cached = memo.get(key);
    if (cached !== undefined && at - cached.at < cacheMs) return cached.set;
    const value = await kv.get(key, { type: "text", cacheTtl: KILL_SWITCH_KV_CACHE_TTL_SECONDS });
    if (memo.size >= KILL_SWITCH_CACHE_MAX_ENTRIES) memo.clear();
    memo.set(key, { at, set: value !== null });
    return value !== null;
  }

  return {
    async check(issuerId, kind, subject) {
      const lookups = killSwitchKeys(issuerId, kind, subject);
      const at = now();
      let hits: boolean[];
      try {
        hits = await Promise.all(lookups.map(({ key }) => isSet(key, at)));
      } catch (error) {
        throw new BrokerError("upstream_unavailable", "kill_switch_unavailable", { retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS, cause: error });
      }
      const hit = lookups.find((_, index) => hits[index] === true);
      if (hit !== undefined) throw new BrokerError("forbidden", hit.reason);
    },
  };
}
