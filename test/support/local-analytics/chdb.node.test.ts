// The pinned install of chdb: the lockfile npm writes must name exactly the pinned packages, versions and tarball
// integrity hashes, or the install is refused; and without chdb, the tests that need it fail saying why and how.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHDB_DIR, CHDB_PINS, ChdbUnavailableError, lockMismatches } from "./chdb.ts";

const entry = (name: string, overrides: Record<string, string> = {}) => [
  `node_modules/${name}`,
  { ...(CHDB_PINS[name] as object), ...overrides },
];
const pinnedLock = () => ({
  packages: Object.fromEntries([["", {}], ...Object.keys(CHDB_PINS).map((name) => entry(name))]),
});

describe("chdb pins", () => {
  it("the lockfile of the installed copy matches the pins", () => {
    expect(lockMismatches(JSON.parse(readFileSync(`${CHDB_DIR}package-lock.json`, "utf8")))).toEqual([]);
  });

  it("refuses another integrity, another version, an unpinned package, a missing native library", () => {
    const lock = pinnedLock();
    lock.packages["node_modules/@chdb/lib-linux-x64-gnu"] = {
      ...(CHDB_PINS["@chdb/lib-linux-x64-gnu"] as object),
      integrity: "sha512-AAAA",
    };
    lock.packages["node_modules/chdb"] = { ...(CHDB_PINS.chdb as object), version: "3.4.1" };
    (lock.packages as Record<string, object>)["node_modules/left-pad"] = { version: "1.3.0", integrity: "sha512-x" };
    expect(lockMismatches(lock).sort()).toEqual([
      "@chdb/lib-linux-x64-gnu@26.7.3-stable.1 does not match its pinned version and integrity",
      "chdb@3.4.1 does not match its pinned version and integrity",
      "left-pad is not pinned",
    ]);
    const { "node_modules/@chdb/lib-linux-x64-gnu": _, ...withoutNative } = pinnedLock().packages;
    expect(lockMismatches({ packages: withoutNative })).toEqual(["@chdb/lib-linux-x64-gnu was not installed"]);
  });

  it("a missing chdb is an error that says why and how to install it, never a skip", () => {
    const error = new ChdbUnavailableError("npm install failed (exit 1): 404");
    expect(error.message).toContain("404");
    expect(error.message).toContain("test/support/local-analytics/install.ts");
  });
});
