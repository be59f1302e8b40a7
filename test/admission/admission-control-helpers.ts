// What the AdmissionControl object tests share: a fresh object, an admit request, and its stored rows.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { AdmissionControl, AdmitRequest } from "../../src/admission/admission-control.ts";

export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

export const ISS = "https://token.actions.githubusercontent.com";

export const LIMIT = { perMinute: 60, burst: 20 };

/** A fresh object per test: local Durable Object storage is shared by the tests of a file. */
export function freshObject(): DurableObjectStub<AdmissionControl> {
  return env.ADMISSION.getByName(`test-object-${crypto.randomUUID()}`);
}

export function request(overrides: Partial<AdmitRequest> = {}): AdmitRequest {
  return {
    iss: ISS,
    jti: crypto.randomUUID(),
    reserveUntilMs: T0 + 310_000,
    bucket: "rule-a",
    limit: LIMIT,
    nowMs: T0,
    holder: crypto.randomUUID(),
    ...overrides,
  };
}

export interface Rows {
  reservations: Array<{ iss: string; jti: string; expires_at_ms: number; holder: string | null }>;
  buckets: Array<{ key: string; level: number; updated_at_ms: number; full_at_ms: number }>;
  queues: Array<{ key: string; held: number; last_slot_ms: number; idle_at_ms: number }>;
  tables: string[];
}

/** What the object has stored, read inside it. */
export function rows(stub: DurableObjectStub<AdmissionControl>): Promise<Rows> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
      )
      .toArray()
      .map((row) => row.name)
      .sort();
    const read = <T extends Record<string, SqlStorageValue>>(table: string) =>
      tables.includes(table) ? state.storage.sql.exec<T>(`SELECT * FROM ${table}`).toArray() : [];
    return { tables, reservations: read("reservation"), buckets: read("bucket"), queues: read("queue") } as Rows;
  });
}
