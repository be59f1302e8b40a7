import { describe, expect, it } from "vitest";
import { killSwitchKeys } from "../../src/policy/kill-switch.ts";
import { KILL_SWITCH_KINDS, killSwitchKey } from "../../sandbox/kill-switch.ts";

describe("sandbox kill-switch keys", () => {
  it("writes the keys the broker looks up (names lower-cased, ids exact)", () => {
    const github = killSwitchKeys("github", "github", {
      repository: "Acme/App",
      repositoryId: "874563210",
      owner: "Acme",
      ownerId: "1",
      actor: "Octo",
      actorId: "2",
      ref: "refs/heads/main",
      event: "push",
    }).map((lookup) => lookup.key);
    for (const [kind, value] of [
      ["repository", "Acme/App"],
      ["repository-id", "874563210"],
      ["owner", "ACME"],
      ["owner-id", "1"],
      ["actor", "octo"],
      ["actor-id", "2"],
      ["issuer", "github"],
    ] as const) {
      expect(github).toContain(killSwitchKey(kind, value));
    }
    const gitlab = killSwitchKeys("gitlab", "gitlab", {
      repository: "grp/sub/proj",
      repositoryId: "42",
      owner: "grp/sub",
      ownerId: "7",
      actor: "dev",
      actorId: "9",
      ref: "main",
      event: "push",
    }).map((lookup) => lookup.key);
    for (const [kind, value] of [
      ["project", "grp/sub/proj"],
      ["project-id", "42"],
      ["namespace", "grp"],
      ["namespace-id", "7"],
      ["user", "dev"],
      ["user-id", "9"],
    ] as const) {
      expect(gitlab).toContain(killSwitchKey(kind, value));
    }
    expect(KILL_SWITCH_KINDS).toHaveLength(13);
  });

  it("refuses an unknown kind, a non-numeric id, an empty value or one with spaces", () => {
    for (const [kind, value] of [
      ["repo", "acme/app"],
      ["__proto__", "x"],
      ["repository-id", "acme"],
      ["repository", ""],
      ["actor", "a b"],
    ]) {
      expect(() => killSwitchKey(kind as string, value as string), `${kind} ${value}`).toThrow();
    }
  });
});
