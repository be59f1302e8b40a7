// chdb (ClickHouse embedded in Node) for the local Analytics Engine: where it is installed, the exact packages and
// integrity hashes it is pinned to, and loading it. Node only. chdb stays out of package.json and the lockfile: its
// per-platform optional packages for other platforms are missing on the registry these machines use, so a lockfile
// written with it fails `npm ci` as out of sync (docs/development.md "chdb"). install.ts puts it in .cache/chdb.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The git-ignored folder chdb is installed into (its own package.json, lockfile and node_modules). */
export const CHDB_DIR = fileURLToPath(new URL("../../.cache/chdb/", import.meta.url));
/** Written by install.ts when an install failed: the reason, shown by every test that needs chdb. */
export const CHDB_FAILURE_FILE = `${CHDB_DIR}install-failed.txt`;
/** Written by install.ts after the lockfile's integrity hashes matched CHDB_PINS. */
export const CHDB_VERIFIED_FILE = `${CHDB_DIR}verified.json`;

/**
 * Every package the install may contain, at one exact version, with the sha512 integrity of its tarball as the
 * registry published it (npm verifies the download against the lockfile's integrity; install.ts checks the lockfile's
 * integrity against these). Only linux-x64 (glibc) has a native package on this registry; elsewhere local analytics is
 * off.
 */
export const CHDB_PINS: Readonly<Record<string, { version: string; integrity: string }>> = {
  chdb: {
    version: "3.4.0",
    integrity: "sha512-HMNj4dq3lIrwqxwGSuuEjo9EIlC+k8IjsSQHh1ZStGvV6MRckfvPM2aDqzdW1ti3fldrt9UIntJBm0AbV9nbDQ==",
  },
  "@chdb/lib-linux-x64-gnu": {
    version: "26.7.3-stable.1",
    integrity: "sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw==",
  },
  "@clickhouse/client-common": {
    version: "1.23.0",
    integrity: "sha512-OkuxPkQ+ph8CCrt/4DYBvlJ9D9Q9q7FwvP8FdwER+7UDNO3jN4Ee6SZl9iLupKJIvKeuS68+x86ZyqFuHdPK3g==",
  },
  "node-addon-api": {
    version: "6.1.0",
    integrity: "sha512-+eawOlIgy680F0kBzPUNFhMZGtJ1YmqM6l4+Crf4IkImjYrO/mqPwRMh352g23uIaQKFItcQ64I7KMaJxHgAVA==",
  },
  "node-gyp-build": {
    version: "4.8.4",
    integrity: "sha512-LA4ZjwlnUblHVgq0oBF3Jl/6h/Nvs5fzBLwdEF4nuxnFdsfajde4WfxtJr3CaiH+F6ewcIB/q4jQ4UzPyid+CQ==",
  },
};

/** What the packages pinned above amount to, for the verified marker: a change of pin means a new install. */
export function pinsFingerprint(): string {
  return JSON.stringify(CHDB_PINS);
}

/** Lockfile entries that differ from the pins, or pins the install lacks. Pure. */
export function lockMismatches(lock: {
  packages?: Record<string, { version?: string; integrity?: string }>;
}): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === "") continue;
    const name = path.replace(/^.*node_modules\//, "");
    const pin = CHDB_PINS[name];
    seen.add(name);
    if (pin === undefined) problems.push(`${name} is not pinned`);
    else if (entry.version !== pin.version || entry.integrity !== pin.integrity)
      problems.push(`${name}@${entry.version ?? "?"} does not match its pinned version and integrity`);
  }
  for (const name of ["chdb", "@chdb/lib-linux-x64-gnu"])
    if (!seen.has(name)) problems.push(`${name} was not installed`);
  return problems;
}

/** The part of chdb's API the local Analytics Engine uses. */
export interface ChdbSession {
  query(sql: string, format?: string): string;
  close(): void;
}
export interface ChdbModule {
  Session: new (path?: string, options?: { connectionArgs?: string[] }) => ChdbSession;
}

export class ChdbUnavailableError extends Error {
  /** Why, in a few words (the install's failure, or the loader's). */
  readonly reason: string;
  constructor(reason: string) {
    super(
      `local analytics needs chdb, which is not available: ${reason}. It is installed by \`node sandbox/local-analytics/install.ts\` (run by npm test and npm start) into .cache/chdb; docs/development.md "chdb".`,
    );
    this.name = "ChdbUnavailableError";
    this.reason = reason;
  }
}

/** Whether install.ts verified the current pins (a changed pin, or an install cut short, is not verified). */
export function chdbVerified(): boolean {
  try {
    return (
      existsSync(`${CHDB_DIR}node_modules/chdb/package.json`) &&
      readFileSync(CHDB_VERIFIED_FILE, "utf8") === pinsFingerprint()
    );
  } catch {
    return false;
  }
}

/** chdb from .cache/chdb, or ChdbUnavailableError saying why not (never a silent skip). */
export function loadChdb(): ChdbModule {
  if (!chdbVerified()) {
    const failure = existsSync(CHDB_FAILURE_FILE)
      ? readFileSync(CHDB_FAILURE_FILE, "utf8").trim()
      : "not installed yet";
    throw new ChdbUnavailableError(failure);
  }
  try {
    return createRequire(`${CHDB_DIR}package.json`)("chdb") as ChdbModule;
  } catch (error) {
    throw new ChdbUnavailableError(
      `loading it failed (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`,
    );
  }
}
