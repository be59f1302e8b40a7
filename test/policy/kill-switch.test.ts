import { describe, expect, it } from "vitest";
import { KILL_SWITCH_CACHE_MS, KILL_SWITCH_KV_CACHE_TTL_SECONDS } from "../../src/policy/constants.ts";
import { BrokerError } from "../../src/errors.ts";
import { claimSubject, parseClaims } from "../../src/oidc/claims.ts";
import { createKillSwitch, killSwitchKeys, type KillSwitchKv } from "../../src/policy/kill-switch.ts";
import { githubClaims } from "../support/fake-issuer.ts";
import { gitlabClaims } from "../support/gitlab-claims.ts";

const github = claimSubject("github", parseClaims("github", githubClaims()));
const gitlab = claimSubject(
  "gitlab",
  parseClaims("gitlab", gitlabClaims({ namespace_path: "acme/platform/team", project_path: "acme/platform/team/app" })),
);

function fakeKv(keys: Record<string, string> = {}) {
  const store = new Map(Object.entries(keys));
  const reads: Array<{ key: string; cacheTtl: number | undefined }> = [];
  const calls: string[][] = [];
  let failing = false;
  let dropKey: string | undefined;
  const kv: KillSwitchKv = {
    // As Workers KV's bulk read: every asked key in the Map, null when not set.
    async get(keys, options) {
      calls.push(keys);
      for (const key of keys) reads.push({ key, cacheTtl: options.cacheTtl });
      if (failing) throw new Error("KV GET failed: 500 Internal Server Error");
      return new Map(keys.filter((key) => key !== dropKey).map((key) => [key, store.get(key) ?? null]));
    },
  };
  return { kv, store, reads, calls, fail: (on: boolean) => (failing = on), drop: (key: string) => (dropKey = key) };
}

async function outcome(promise: Promise<void>): Promise<string> {
  try {
    await promise;
    return "pass";
  } catch (error) {
    if (error instanceof BrokerError)
      return `${error.code}/${error.reason}${error.retryAfterSeconds === undefined ? "" : ` retry ${error.retryAfterSeconds}`}`;
    throw error;
  }
}

describe("killSwitchKeys", () => {
  it("GitHub: issuer, owner, repository and actor, by lower-cased name and by exact id", () => {
    const subject = { ...github, repository: "Acme/App", owner: "Acme", actor: "OctoCat" };
    expect(killSwitchKeys("github", "github", subject)).toEqual([
      { key: "killswitch:issuer:github", reason: "kill_switch_issuer" },
      { key: "killswitch:owner:acme", reason: "kill_switch_owner" },
      { key: "killswitch:owner-id:51234567", reason: "kill_switch_owner" },
      { key: "killswitch:repo:acme/app", reason: "kill_switch_repository" },
      { key: "killswitch:repo-id:874563210", reason: "kill_switch_repository" },
      { key: "killswitch:actor:octocat", reason: "kill_switch_actor" },
      { key: "killswitch:actor-id:583231", reason: "kill_switch_actor" },
    ]);
  });

  it("GitLab: project, every ancestor namespace (a group kills its subgroups), user", () => {
    expect(killSwitchKeys("gitlab", "gitlab", gitlab).map((lookup) => lookup.key)).toEqual([
      "killswitch:issuer:gitlab",
      "killswitch:namespace:acme",
      "killswitch:namespace:acme/platform",
      "killswitch:namespace:acme/platform/team",
      "killswitch:namespace-id:72",
      "killswitch:project:acme/platform/team/app",
      "killswitch:project-id:4242",
      "killswitch:user:sample-user",
      "killswitch:user-id:1",
    ]);
  });

  it("never asks for a key longer than KV allows (512 bytes)", () => {
    const keys = killSwitchKeys("github", "github", { ...github, repository: `acme/${"é".repeat(300)}` }).map(
      (lookup) => lookup.key,
    );
    expect(keys).not.toContain(expect.stringMatching(/^killswitch:repo:/));
    expect(keys).toContain("killswitch:repo-id:874563210");
  });
});

describe("createKillSwitch", () => {
  it("passes when no key is set, reading KV with its minimum edge-cache TTL", async () => {
    const { kv, reads } = fakeKv();
    expect(await outcome(createKillSwitch({ kv, now: () => 0 }).check("github", "github", github))).toBe("pass");
    expect(reads.length).toBe(7);
    expect(reads.every((read) => read.cacheTtl === KILL_SWITCH_KV_CACHE_TTL_SECONDS)).toBe(true);
  });

  it.each([
    ["killswitch:issuer:github", "kill_switch_issuer"],
    ["killswitch:repo:acme/app", "kill_switch_repository"],
    ["killswitch:repo-id:874563210", "kill_switch_repository"],
    ["killswitch:owner:acme", "kill_switch_owner"],
    ["killswitch:owner-id:51234567", "kill_switch_owner"],
    ["killswitch:actor:octocat", "kill_switch_actor"],
    ["killswitch:actor-id:583231", "kill_switch_actor"],
  ])("%s denies with forbidden/%s", async (key, reason) => {
    const { kv } = fakeKv({ [key]: "INC-1234" });
    expect(await outcome(createKillSwitch({ kv, now: () => 0 }).check("github", "github", github))).toBe(
      `forbidden/${reason}`,
    );
  });

  it("a GitLab parent group's key denies a project in a subgroup", async () => {
    const { kv } = fakeKv({ "killswitch:namespace:acme/platform": "x" });
    expect(await outcome(createKillSwitch({ kv, now: () => 0 }).check("gitlab", "gitlab", gitlab))).toBe(
      "forbidden/kill_switch_owner",
    );
  });

  it("keys for one repository do not touch another", async () => {
    const { kv } = fakeKv({ "killswitch:repo:acme/app-evil": "x", "killswitch:repo:acme/ap": "x" });
    expect(await outcome(createKillSwitch({ kv, now: () => 0 }).check("github", "github", github))).toBe("pass");
  });

  it("fails closed: a KV error is upstream_unavailable with Retry-After, never a pass", async () => {
    const fake = fakeKv();
    fake.fail(true);
    expect(await outcome(createKillSwitch({ kv: fake.kv, now: () => 0 }).check("github", "github", github))).toBe(
      "upstream_unavailable/kill_switch_unavailable retry 5",
    );
  });

  it("reads every key in one KV call, and later only the keys it does not remember", async () => {
    let clock = 0;
    const fake = fakeKv();
    const killSwitch = createKillSwitch({ kv: fake.kv, now: () => clock });
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("pass");
    expect(fake.calls.length).toBe(1);
    expect(fake.calls[0]?.length).toBe(7);
    clock += 1;
    const other = { ...github, repository: "acme/other", repositoryId: "1" };
    fake.store.set("killswitch:repo:acme/other", "INC-7");
    expect(await outcome(killSwitch.check("github", "github", other))).toBe("forbidden/kill_switch_repository");
    expect(fake.calls[1]).toEqual(["killswitch:repo:acme/other", "killswitch:repo-id:1"]);
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("pass");
    expect(fake.calls.length).toBe(2); // all remembered: no KV call at all
  });

  it("fails closed when the bulk answer leaves a key out", async () => {
    const fake = fakeKv();
    fake.drop("killswitch:actor:octocat");
    expect(await outcome(createKillSwitch({ kv: fake.kv, now: () => 0 }).check("github", "github", github))).toBe(
      "upstream_unavailable/kill_switch_unavailable retry 5",
    );
  });

  it("remembers lookups for KILL_SWITCH_CACHE_MS, then reads again (set and cleared keys take effect)", async () => {
    let clock = 0;
    const fake = fakeKv();
    const killSwitch = createKillSwitch({ kv: fake.kv, now: () => clock });
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("pass");
    fake.store.set("killswitch:repo:acme/app", "x");
    clock += KILL_SWITCH_CACHE_MS - 1;
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("pass"); // memo still fresh
    expect(fake.reads.length).toBe(7);
    clock += 1;
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("forbidden/kill_switch_repository");
    fake.store.delete("killswitch:repo:acme/app");
    clock += KILL_SWITCH_CACHE_MS;
    expect(await outcome(killSwitch.check("github", "github", github))).toBe("pass");
  });
});
