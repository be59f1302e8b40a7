// `npm run sandbox -- kill|lift|kills`: the kill switch of the running sandbox broker, without editing a file. Writes
// the same keys an operator writes in production (docs/operations.md "Kill switch"), in the sandbox's local KV, with
// wrangler's own `kv key` commands. The key names are a pure function (killSwitchKey), tested in workerd.
import { KILL_SWITCH_PREFIX } from "../src/policy/kill-switch.ts";

/** What a user types -> the key's middle part (src/policy/kill-switch.ts killSwitchKeys). */
const KINDS: Record<string, { key: string; id: boolean }> = {
  issuer: { key: "issuer", id: false },
  repository: { key: "repo", id: false },
  "repository-id": { key: "repo-id", id: true },
  owner: { key: "owner", id: false },
  "owner-id": { key: "owner-id", id: true },
  actor: { key: "actor", id: false },
  "actor-id": { key: "actor-id", id: true },
  project: { key: "project", id: false },
  "project-id": { key: "project-id", id: true },
  namespace: { key: "namespace", id: false },
  "namespace-id": { key: "namespace-id", id: true },
  user: { key: "user", id: false },
  "user-id": { key: "user-id", id: true },
};

export const KILL_SWITCH_KINDS = Object.keys(KINDS);

/**
 * The KV key for `kill <kind> <value>`. Names are lower-cased, as the broker looks them up; ids must be decimal.
 * Issuer ids are the `ISSUERS` ids, kept as written. Throws an Error saying what is wrong.
 */
export function killSwitchKey(kind: string, value: string): string {
  const spec = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (spec === undefined) throw new Error(`unknown kind "${kind}": one of ${KILL_SWITCH_KINDS.join(", ")}`);
  if (value === "" || /\s/.test(value)) throw new Error(`${kind} needs a value without spaces`);
  if (spec.id && !/^\d{1,20}$/.test(value)) throw new Error(`${kind} is a numeric id, not "${value}"`);
  return `${KILL_SWITCH_PREFIX}${spec.key}:${kind === "issuer" ? value : value.toLowerCase()}`;
}
